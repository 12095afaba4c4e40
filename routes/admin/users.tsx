/** Users: search and filters, a user's page, and its actions (status, roles, reset link, sign out everywhere). */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { changeUser, listUsers, readUser } from "../../services/accounts.ts";
import { requestPasswordReset } from "../../services/password_reset.ts";
import { assignRole, listAssignments, listRoles, removeAssignment } from "../../services/roles.ts";
import { signOutEverywhere } from "../../services/sign_in.ts";
import { USERROLES_WRITE, USERS_ADMIN, USERS_CHANGE, USERS_READ } from "./access.ts";
import { ActionForm, Layout, Pager } from "./layout.tsx";
import { declarePage, holds, mayOpen, pageOf, positiveInt, sessionOf, stepContext, text } from "./page.ts";
import { ChoiceFilter, ListTable } from "./list_table.tsx";

const STATUSES = ["active", "suspended", "deactivated"];

export function userPages(app: Hono<AppEnv>) {
  declarePage(app, {
    method: "get",
    path: "/admin/users",
    access: USERS_READ,
    audit: { action: "list", table: "users" },
    mirrors: "GET /users",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const q = { search: text(c.req.query("search"), 100), status: c.req.query("status"), role: c.req.query("role") };
    const accountStatus = STATUSES.includes(q.status ?? "") ? q.status : undefined;
    const filters = { search: q.search, accountStatus, role: text(q.role, 64) };
    const slice = await listUsers(stepContext(c), filters, pageOf(c));
    return c.html(
      <Layout title="Users" principal={principal} csrf={csrf}>
        {mayOpen(principal, USERS_ADMIN) && (
          <p>
            <a href="/admin/users/new">Create a user</a>
          </p>
        )}
        <form class="filters" method="get">
          <label>
            Search <input name="search" value={q.search ?? ""} placeholder="username or e-mail" />
          </label>
          <ChoiceFilter label="Status" name="status" choices={STATUSES} selected={accountStatus} />
          <label>
            Role <input name="role" value={q.role ?? ""} />
          </label>
          <button type="submit">Search</button>
        </form>
        <ListTable
          headers={["Id", "Username", "E-mail", "Roles", "Status"]}
          rows={slice.rows}
          cells={(u) => [
            u.id,
            <a href={`/admin/users/${u.id}`}>{u.username}</a>,
            u.email,
            u.roles.join(", "),
            u.accountStatus,
          ]}
        />
        <Pager base="/admin/users" query={q} next={slice.next} previous={slice.previous} />
      </Layout>,
    );
  });

  declarePage(app, {
    method: "get",
    path: "/admin/users/:id",
    access: USERS_READ,
    audit: { action: "read", table: "users" },
    mirrors: "GET /users/{id}",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const user = await readUser(stepContext(c), positiveInt(c.req.param("id")) ?? 0);
    const manageRoles = mayOpen(principal, USERROLES_WRITE) && holds(principal, "userroles:read");
    const assignments = manageRoles
      ? (await listAssignments(stepContext(c, { action: "list", table: "user_roles" }), { user: user.id }, {
        ordering: "id",
        pageSize: 50,
      })).rows
      : [];
    const roles = manageRoles ? (await listRoles(stepContext(c), { ordering: "id", pageSize: 200 })).rows : [];
    const roleName = (id: number) => roles.find((r) => r.id === id)?.roleName ?? String(id);
    const base = `/admin/users/${user.id}`;
    const admin = mayOpen(principal, USERS_ADMIN);
    return c.html(
      <Layout title={`User ${user.username}`} principal={principal} csrf={csrf} notice={text(c.req.query("notice"))}>
        <table>
          <tbody>
            <tr>
              <th>Id</th>
              <td>{user.id}</td>
            </tr>
            <tr>
              <th>E-mail</th>
              <td>{user.email}</td>
            </tr>
            <tr>
              <th>Status</th>
              <td id="account-status">{user.accountStatus}</td>
            </tr>
            <tr>
              <th>Roles</th>
              <td>{user.roles.join(", ") || "none"}</td>
            </tr>
            <tr>
              <th>Last sign-in</th>
              <td>{user.lastLogin?.toISOString() ?? "never"}</td>
            </tr>
          </tbody>
        </table>
        {mayOpen(principal, USERS_CHANGE) && user.id !== principal.userId && user.accountStatus !== "deactivated" && (
          <>
            <h2>Account</h2>
            <ActionForm action={`${base}/status`} csrf={csrf}>
              <input type="hidden" name="status" value={user.accountStatus === "active" ? "suspended" : "active"} />
              <button class={user.accountStatus === "active" ? "danger" : ""} type="submit">
                {user.accountStatus === "active" ? "Suspend" : "Reactivate"}
              </button>
            </ActionForm>{" "}
            {admin && (
              <>
                <ActionForm action={`${base}/reset`} csrf={csrf}>
                  <button class="quiet" type="submit">Send a password-reset link</button>
                </ActionForm>{" "}
                <ActionForm action={`${base}/signout`} csrf={csrf}>
                  <button class="quiet" type="submit">Sign out everywhere</button>
                </ActionForm>
              </>
            )}
          </>
        )}
        {manageRoles && (
          <>
            <h2>Roles</h2>
            <table>
              <tbody>
                {assignments.map((a) => (
                  <tr>
                    <td>{roleName(a.roleId)}</td>
                    <td>
                      <ActionForm action={`${base}/roles/${a.id}/delete`} csrf={csrf}>
                        <button class="quiet" type="submit">Remove</button>
                      </ActionForm>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <ActionForm action={`${base}/roles`} csrf={csrf} class="filters">
              <label>
                Role
                <select name="role">{roles.map((r) => <option value={String(r.id)}>{r.roleName}</option>)}</select>
              </label>
              <button type="submit">Assign</button>
            </ActionForm>
          </>
        )}
      </Layout>,
    );
  });

  declarePage(app, {
    method: "post",
    path: "/admin/users/:id/status",
    access: USERS_CHANGE,
    audit: { action: "update", table: "users" },
    mirrors: "PATCH /users/{id}",
  }, async (c) => {
    const id = positiveInt(c.req.param("id")) ?? 0;
    const form = await c.req.parseBody();
    const status = form.status === "active" ? "active" : "suspended";
    await changeUser(stepContext(c), id, { account_status: status });
    return c.redirect(`/admin/users/${id}?notice=${status === "active" ? "Reactivated" : "Suspended"}`, 303);
  });

  declarePage(app, {
    method: "post",
    path: "/admin/users/:id/roles",
    access: USERROLES_WRITE,
    audit: { action: "create", table: "user_roles" },
    mirrors: "POST /userroles",
  }, async (c) => {
    const id = positiveInt(c.req.param("id")) ?? 0;
    const form = await c.req.parseBody();
    await assignRole(stepContext(c), { user: id, role: positiveInt(form.role) ?? 0 });
    return c.redirect(`/admin/users/${id}?notice=Role+assigned`, 303);
  });

  declarePage(app, {
    method: "post",
    path: "/admin/users/:id/roles/:assignment/delete",
    access: USERROLES_WRITE,
    audit: { action: "delete", table: "user_roles" },
    mirrors: "DELETE /userroles/{id}",
  }, async (c) => {
    const id = positiveInt(c.req.param("id")) ?? 0;
    await removeAssignment(stepContext(c), positiveInt(c.req.param("assignment")) ?? 0);
    return c.redirect(`/admin/users/${id}?notice=Role+removed`, 303);
  });

  declarePage(app, {
    method: "post",
    path: "/admin/users/:id/reset",
    access: USERS_ADMIN,
    audit: { action: "password_reset", table: "users" },
  }, async (c) => {
    const ctx = stepContext(c);
    const user = await readUser(
      stepContext(c, { action: "read", table: "users" }),
      positiveInt(c.req.param("id")) ?? 0,
    );
    await requestPasswordReset(ctx, user.email);
    return c.redirect(`/admin/users/${user.id}?notice=${encodeURIComponent("A reset link was sent")}`, 303);
  });

  declarePage(app, {
    method: "post",
    path: "/admin/users/:id/signout",
    access: USERS_ADMIN,
    audit: { action: "logout", table: "users" },
  }, async (c) => {
    const id = positiveInt(c.req.param("id")) ?? 0;
    await signOutEverywhere(stepContext(c), id);
    return c.redirect(`/admin/users/${id}?notice=${encodeURIComponent("Signed out everywhere")}`, 303);
  });
}
