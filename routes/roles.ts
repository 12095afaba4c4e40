import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import { publicUrl } from "../config.ts";
import {
  assignmentCount,
  deleteRole,
  findRole,
  insertRole,
  listRoles,
  lockRole,
  ROLE_ORDERINGS,
  type RoleWithPermissions,
  updateRole,
} from "../db/roles.ts";
import { notFound, ProblemError, sqlConstraint } from "../middleware/problem.ts";
import { keyset, orderingQuery, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { ALL_PERMISSIONS, PERMISSIONS } from "../services/permissions.ts";
import { auditedChange } from "../services/users.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { IdParam, pageOf } from "./_schemas.ts";
import { keepSomeoneWhoCanAssignRoles } from "./users.ts";

const Permission = z.object({ code: z.enum(ALL_PERMISSIONS), description: z.string() }).openapi("Permission");

const Role = z.object({
  id: z.number().int(),
  role_name: z.string(),
  description: z.string(),
  permissions: z.array(z.enum(ALL_PERMISSIONS)),
  builtin: z.boolean().openapi({ description: "Built-in roles can be neither deleted nor renamed" }),
}).openapi("Role");

const roleName = z.string().max(50).regex(
  /^[a-z][a-z0-9_-]{1,49}$/,
  "2 to 50 lowercase letters, digits, - or _, starting with a letter",
);
const permissionCode = z.enum(ALL_PERMISSIONS, { error: "Not a permission of the catalogue (see GET /permissions/)" });
const fields = {
  role_name: roleName,
  description: z.string().max(500),
  permissions: z.array(permissionCode).max(ALL_PERMISSIONS.length * 2),
};
const RoleCreate = z.strictObject(fields).partial({ description: true }).openapi("RoleCreate");
const RolePut = z.strictObject(fields).partial({ description: true }).openapi("RoleUpdate");
const RolePatch = z.strictObject(fields).partial().openapi("RolePatch");
type RoleChange = z.infer<typeof RolePatch>;

const ORDERINGS = Object.keys(ROLE_ORDERINGS) as (keyof typeof ROLE_ORDERINGS)[];
const ListQuery = z.object({ ...pageQuery, ordering: orderingQuery(ORDERINGS, "id") });

const write = { kind: "permission", permission: "roles:write", scope: "all" } as const;
const AUDIT = { action: "permission_change", table: "roles" } as const;

const permissions = declareRoute({
  method: "get",
  path: "/permissions",
  operationId: "permissions_list",
  tags: ["roles"],
  summary: "The fixed catalogue of permission codes roles are made of",
  access: { kind: "signed-in" },
  responses: { 200: jsonResponse("Every permission", z.array(Permission)), ...problems(401) },
});

const list = declareRoute({
  method: "get",
  path: "/roles",
  operationId: "roles_list",
  tags: ["roles"],
  summary: "Roles and their permissions",
  access: { kind: "signed-in" },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of roles", pageOf(Role)), ...problems(400, 401) },
});

const get = declareRoute({
  method: "get",
  path: "/roles/{id}",
  operationId: "roles_read",
  tags: ["roles"],
  summary: "One role",
  access: { kind: "signed-in" },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The role", Role), ...problems(401, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/roles",
  operationId: "roles_create",
  tags: ["roles"],
  summary: "Create a role from catalogue permissions; it takes effect for its holders on their next request",
  access: write,
  idempotent: true,
  request: jsonBody(RoleCreate),
  responses: { 201: jsonResponse("The new role", Role), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

const BUILTIN = "Built-in roles (`admin`, `doctor`, `patient`) keep their names; their permissions may change.";

const put = declareRoute({
  method: "put",
  path: "/roles/{id}",
  operationId: "roles_update",
  tags: ["roles"],
  summary: "Replace a role's name, description and permissions",
  description: BUILTIN,
  access: write,
  request: { params: IdParam, ...jsonBody(RolePut) },
  responses: { 200: jsonResponse("The role", Role), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

const patch = declareRoute({
  method: "patch",
  path: "/roles/{id}",
  operationId: "roles_partial_update",
  tags: ["roles"],
  summary: "Change some fields of a role",
  description: BUILTIN,
  access: write,
  request: { params: IdParam, ...jsonBody(RolePatch) },
  responses: { 200: jsonResponse("The role", Role), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

const remove = declareRoute({
  method: "delete",
  path: "/roles/{id}",
  operationId: "roles_delete",
  tags: ["roles"],
  summary: "Delete a role that no one holds; built-in roles cannot be deleted",
  access: write,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404, 409) },
});

export function roleRoutes() {
  const app = newRouter();

  app.openapi(permissions, (c) => {
    return c.json(ALL_PERMISSIONS.map((code) => ({ code, description: PERMISSIONS[code] })), 200);
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = keyset({
      ordering: q.ordering,
      columns: ROLE_ORDERINGS,
      id: ROLE_ORDERINGS.id,
      pageSize: q.page_size,
      cursor: q.cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const byName = q.ordering.replace(/^-/, "") === "role_name";
    const rows = await listRoles(c.get("deps").db, page);
    return c.json(page.page(rows, (r) => ({ value: byName ? r.roleName : r.id, id: r.id }), roleView), 200);
  });

  app.openapi(get, async (c) => {
    const row = await findRole(c.get("deps").db, c.req.valid("param").id);
    if (!row) throw notFound();
    return c.json(roleView(row), 200);
  });

  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    const row = await auditedChange(c, AUDIT, {
      change: async (tx) => {
        const codes = unique(body.permissions);
        const created = await insertRole(tx, { roleName: body.role_name, description: body.description ?? "" }, codes)
          .catch(duplicateRoleName);
        return { result: roleView(created), targetId: created.id, details: { change: "created", ...summary(created) } };
      },
    });
    return c.json(row, 201);
  });

  app.openapi(put, async (c) => {
    const body = c.req.valid("json");
    return c.json(roleView(await changeRole(c, c.req.valid("param").id, { description: "", ...body })), 200);
  });
  app.openapi(
    patch,
    async (c) => c.json(roleView(await changeRole(c, c.req.valid("param").id, c.req.valid("json"))), 200),
  );

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    await auditedChange(c, AUDIT, {
      change: async (tx) => {
        const role = await lockRole(tx, id);
        if (!role) throw notFound();
        if (role.builtin) {
          throw new ProblemError(409, "builtin-role", `The built-in role ${role.roleName} cannot be deleted`);
        }
        const holders = await assignmentCount(tx, id);
        if (holders > 0) {
          throw new ProblemError(
            409,
            "role-in-use",
            `The role is still assigned to ${holders} user(s); remove those assignments first`,
          );
        }
        await deleteRole(tx, id);
        return { result: null, targetId: id, details: { change: "deleted", ...summary(role) } };
      },
    });
    return c.body(null, 204);
  });

  return app;
}

/** Renames, describes or re-permissions a role; built-in roles keep their names. */
async function changeRole(c: Context<AppEnv>, id: number, body: RoleChange): Promise<RoleWithPermissions> {
  return await auditedChange(c, AUDIT, {
    change: async (tx) => {
      const before = await lockRole(tx, id);
      if (!before) throw notFound();
      if (before.builtin && body.role_name !== undefined && body.role_name !== before.roleName) {
        throw new ProblemError(422, "validation", "Built-in roles cannot be renamed", {
          errors: [{ pointer: "/role_name", detail: `The built-in role ${before.roleName} keeps its name` }],
        });
      }
      const codes = body.permissions && unique(body.permissions);
      const changes = { roleName: body.role_name, description: body.description };
      if (changes.roleName === undefined) delete changes.roleName;
      if (changes.description === undefined) delete changes.description;
      const after = await updateRole(tx, id, changes, codes).catch(duplicateRoleName);
      const added = after.permissions.filter((p) => !before.permissions.includes(p));
      const removed = before.permissions.filter((p) => !after.permissions.includes(p));
      if (removed.length > 0) await keepSomeoneWhoCanAssignRoles(tx);
      const details = {
        change: "updated",
        role_name: after.roleName,
        ...(after.roleName !== before.roleName ? { renamed_from: before.roleName } : {}),
        ...(after.description !== before.description ? { description: "changed" } : {}),
        added,
        removed,
      };
      return { result: after, targetId: id, details };
    },
  });
}

function duplicateRoleName(e: unknown): never {
  if (sqlConstraint(e) === "roles_role_name_unique") {
    throw new ProblemError(409, "duplicate-role", "A role with this name already exists", {
      errors: [{ pointer: "/role_name", detail: "Already taken" }],
    });
  }
  throw e;
}

function unique<T extends string>(codes: T[]): T[] {
  return [...new Set(codes)].sort();
}

function summary(role: RoleWithPermissions) {
  return { role_name: role.roleName, permissions: role.permissions };
}

function roleView(role: RoleWithPermissions) {
  return {
    id: role.id,
    role_name: role.roleName,
    description: role.description,
    permissions: role.permissions as (typeof ALL_PERMISSIONS)[number][],
    builtin: role.builtin,
  };
}
