/**
 * Roles × permissions: the grid of every role and permission code; holders of `roles:write`
 * change it through the API's role service (its ceiling and its audit records). The `admin`
 * column is fixed (it holds every permission), and no role is renamed or deleted here.
 */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { ALL_PERMISSIONS, type Permission, PERMISSIONS } from "../../services/permissions.ts";
import { changeRole, listRoles } from "../../services/roles.ts";
import { ROLES_READ, ROLES_WRITE } from "./access.ts";
import { CsrfField, Layout } from "./layout.tsx";
import { declarePage, mayOpen, sessionOf, stepContext, text } from "./page.ts";

export function rolePages(app: Hono<AppEnv>) {
  declarePage(app, { method: "get", path: "/admin/roles", access: ROLES_READ, mirrors: "GET /roles" }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const roles = (await listRoles(stepContext(c), { ordering: "id", pageSize: 200 })).rows;
    const editable = mayOpen(principal, ROLES_WRITE);
    return c.html(
      <Layout title="Roles and permissions" principal={principal} csrf={csrf} notice={text(c.req.query("notice"))}>
        <form method="post" action="/admin/roles" id="role-grid">
          <CsrfField token={csrf} />
          {roles.filter((r) => r.roleName !== "admin").map((r) => (
            <input type="hidden" name="shown" value={String(r.id)} />
          ))}
          <table>
            <thead>
              <tr>
                <th>Permission</th>
                {roles.map((r) => <th title={r.description}>{r.roleName}{r.builtin ? " (built-in)" : ""}</th>)}
              </tr>
            </thead>
            <tbody>
              {ALL_PERMISSIONS.map((code) => (
                <tr>
                  <td title={PERMISSIONS[code]}>{code}</td>
                  {roles.map((r) => (
                    <td>
                      <input
                        type="checkbox"
                        name={`grant:${r.id}`}
                        value={code}
                        checked={r.roleName === "admin" || r.permissions.includes(code)}
                        disabled={!editable || r.roleName === "admin"}
                        aria-label={`${r.roleName}: ${code}`}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {editable && (
            <p>
              <button type="submit">Save the grid</button>
            </p>
          )}
        </form>
      </Layout>,
    );
  });

  declarePage(app, {
    method: "post",
    path: "/admin/roles",
    access: ROLES_WRITE,
    audit: { action: "permission_change", table: "roles" },
    mirrors: "PATCH /roles/{id}",
  }, async (c) => {
    const form = await c.req.parseBody({ all: true });
    const roles = (await listRoles(stepContext(c), { ordering: "id", pageSize: 200 })).rows;
    // Only the roles the submitted grid showed: a post without the grid changes nothing.
    const shown = new Set([form.shown].flat().filter((v) => typeof v === "string"));
    let changed = 0;
    for (const role of roles.filter((r) => r.roleName !== "admin" && shown.has(String(r.id)))) {
      const sent = form[`grant:${role.id}`];
      const wanted = (Array.isArray(sent) ? sent : sent === undefined ? [] : [sent])
        .filter((v): v is Permission => typeof v === "string" && (ALL_PERMISSIONS as string[]).includes(v))
        .sort();
      const current = [...role.permissions].sort();
      if (wanted.join() === current.join()) continue;
      await changeRole(stepContext(c), role.id, { permissions: wanted });
      changed++;
    }
    return c.redirect(`/admin/roles?notice=${encodeURIComponent(`${changed} role(s) changed`)}`, 303);
  });
}
