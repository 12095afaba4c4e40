/**
 * Roles × permissions: the grid of every role and permission code; holders of `roles:write`
 * change it through the API's role service (its ceiling and its audit records). The built-in
 * roles' columns (`admin`, `doctor`, `patient`: whatever db/seed.ts seeds) are read-only here, so
 * a click cannot hand every patient a permission; only custom roles are edited, and no role is
 * renamed or deleted here.
 */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { Conflict } from "../../errors.ts";
import { ALL_PERMISSIONS, type Permission, PERMISSIONS } from "../../services/permissions.ts";
import { changeRole, listRoles, type RoleWithPermissions } from "../../services/roles.ts";
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
          {roles.filter((r) => !r.builtin).map((r) => <input type="hidden" name="shown" value={String(r.id)} />)}
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
                        disabled={!editable || r.builtin}
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
    const differs = (role: RoleWithPermissions) =>
      grantsOf(form, role.id).join() !== [...role.permissions].sort().join();
    // A built-in role the post names (its column is disabled, so the grid never sends it) is refused
    // before anything changes; the refusal is recorded as a denied permission_change.
    const builtin = roles.find((r) =>
      r.builtin && (shown.has(String(r.id)) || form[`grant:${r.id}`] !== undefined) && differs(r)
    );
    if (builtin) {
      throw new Conflict(
        "builtin-role",
        `The built-in role ${builtin.roleName} cannot be changed in the console; create a custom role instead`,
      );
    }
    let changed = 0;
    for (const role of roles.filter((r) => !r.builtin && shown.has(String(r.id)) && differs(r))) {
      await changeRole(stepContext(c), role.id, { permissions: grantsOf(form, role.id) });
      changed++;
    }
    return c.redirect(`/admin/roles?notice=${encodeURIComponent(`${changed} role(s) changed`)}`, 303);
  });
}

/** The catalogue codes the form ticks for a role, sorted (unknown codes are dropped). */
function grantsOf(form: Record<string, string | File | (string | File)[]>, roleId: number): Permission[] {
  const sent = form[`grant:${roleId}`];
  return (Array.isArray(sent) ? sent : sent === undefined ? [] : [sent])
    .filter((v): v is Permission => typeof v === "string" && (ALL_PERMISSIONS as string[]).includes(v))
    .sort();
}
