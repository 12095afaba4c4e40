import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import { publicUrl } from "../config.ts";
import {
  deleteUserRole,
  findUserRole,
  insertUserRole,
  listUserRoles,
  lockUserRole,
  missingReferences,
  updateUserRole,
  USER_ROLE_ORDERINGS,
  type UserRoleRow,
} from "../db/roles.ts";
import { type FieldError, notFound, ProblemError, sqlConstraint } from "../middleware/problem.ts";
import { keyset, orderingQuery, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { auditedChange } from "../services/users.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { IdParam, idText, pageOf } from "./_schemas.ts";
import { keepSomeoneWhoCanAssignRoles } from "./users.ts";

const UserRole = z.object({
  id: z.number().int(),
  user: z.number().int(),
  role: z.number().int(),
  assigned_at: z.string(),
}).openapi("UserRole");

const ref = z.number().int().positive().max(2147483647);
const UserRoleCreate = z.strictObject({ user: ref, role: ref }).openapi("UserRoleCreate");
const UserRolePatch = UserRoleCreate.partial().openapi("UserRolePatch");
type UserRoleChange = z.infer<typeof UserRolePatch>;

const ORDERINGS = Object.keys(USER_ROLE_ORDERINGS) as (keyof typeof USER_ROLE_ORDERINGS)[];
const ListQuery = z.object({
  ...pageQuery,
  ordering: orderingQuery(ORDERINGS, "id"),
  user: idText.optional().openapi({ description: "User id" }),
  role: idText.optional().openapi({ description: "Role id" }),
});

const read = { kind: "permission", permission: "userroles:read", scope: "all" } as const;
const write = { kind: "permission", permission: "userroles:write", scope: "all" } as const;
const AUDIT = { action: "permission_change", table: "user_roles" } as const;
const NEXT_REQUEST = "The user's permissions change on their next request; their tokens need not be renewed.";

const list = declareRoute({
  method: "get",
  path: "/userroles",
  operationId: "userroles_list",
  tags: ["roles"],
  summary: "Role assignments",
  access: read,
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of assignments", pageOf(UserRole)), ...problems(400, 401, 403) },
});

const get = declareRoute({
  method: "get",
  path: "/userroles/{id}",
  operationId: "userroles_read",
  tags: ["roles"],
  summary: "One role assignment",
  access: read,
  request: { params: IdParam },
  responses: { 200: jsonResponse("The assignment", UserRole), ...problems(401, 403, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/userroles",
  operationId: "userroles_create",
  tags: ["roles"],
  summary: "Give a user a role",
  description: NEXT_REQUEST,
  access: write,
  idempotent: true,
  request: jsonBody(UserRoleCreate),
  responses: { 201: jsonResponse("The assignment", UserRole), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

const put = declareRoute({
  method: "put",
  path: "/userroles/{id}",
  operationId: "userroles_update",
  tags: ["roles"],
  summary: "Point an assignment at another user or role (counts as assigned anew)",
  description: NEXT_REQUEST,
  access: write,
  request: { params: IdParam, ...jsonBody(UserRoleCreate) },
  responses: { 200: jsonResponse("The assignment", UserRole), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

const patch = declareRoute({
  method: "patch",
  path: "/userroles/{id}",
  operationId: "userroles_partial_update",
  tags: ["roles"],
  summary: "Change the user or the role of an assignment",
  description: NEXT_REQUEST,
  access: write,
  request: { params: IdParam, ...jsonBody(UserRolePatch) },
  responses: { 200: jsonResponse("The assignment", UserRole), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

const remove = declareRoute({
  method: "delete",
  path: "/userroles/{id}",
  operationId: "userroles_delete",
  tags: ["roles"],
  summary: "Take a role away from a user",
  description: NEXT_REQUEST,
  access: write,
  request: { params: IdParam },
  responses: { 204: { description: "Removed" }, ...problems(401, 403, 404, 409) },
});

export function userRoleRoutes() {
  const app = newRouter();

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = keyset({
      ordering: q.ordering,
      columns: USER_ROLE_ORDERINGS,
      id: USER_ROLE_ORDERINGS.id,
      pageSize: q.page_size,
      cursor: q.cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const byDate = q.ordering.replace(/^-/, "") === "assigned_at";
    const rows = await listUserRoles(c.get("deps").db, { user: q.user, role: q.role, ...page });
    return c.json(page.page(rows, (r) => ({ value: byDate ? r.assignedAt : r.id, id: r.id }), view), 200);
  });

  app.openapi(get, async (c) => {
    const row = await findUserRole(c.get("deps").db, c.req.valid("param").id);
    if (!row) throw notFound();
    return c.json(view(row), 200);
  });

  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    const row = await auditedChange(c, AUDIT, {
      change: async (tx) => {
        const roleName = await existingReferences(tx, { userId: body.user, roleId: body.role });
        const created = await insertUserRole(tx, body.user, body.role, c.get("deps").clock()).catch(alreadyAssigned);
        const details = { change: "assigned", user: body.user, role: body.role, role_name: roleName };
        return { result: view(created), targetId: created.id, details };
      },
    });
    return c.json(row, 201);
  });

  app.openapi(
    put,
    async (c) => c.json(view(await changeAssignment(c, c.req.valid("param").id, c.req.valid("json"))), 200),
  );
  app.openapi(
    patch,
    async (c) => c.json(view(await changeAssignment(c, c.req.valid("param").id, c.req.valid("json"))), 200),
  );

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    await auditedChange(c, AUDIT, {
      change: async (tx) => {
        const row = await lockUserRole(tx, id);
        if (!row) throw notFound();
        await deleteUserRole(tx, id);
        await keepSomeoneWhoCanAssignRoles(tx);
        return { result: null, targetId: id, details: { change: "removed", user: row.userId, role: row.roleId } };
      },
    });
    return c.body(null, 204);
  });

  return app;
}

async function changeAssignment(c: Context<AppEnv>, id: number, body: UserRoleChange): Promise<UserRoleRow> {
  return await auditedChange(c, AUDIT, {
    change: async (tx) => {
      const before = await lockUserRole(tx, id);
      if (!before) throw notFound();
      await existingReferences(tx, { userId: body.user, roleId: body.role });
      const changes = { userId: body.user ?? before.userId, roleId: body.role ?? before.roleId };
      const same = changes.userId === before.userId && changes.roleId === before.roleId;
      const after = same ? before : await updateUserRole(tx, id, changes, c.get("deps").clock()).catch(alreadyAssigned);
      await keepSomeoneWhoCanAssignRoles(tx);
      const details = {
        change: "reassigned",
        from: { user: before.userId, role: before.roleId },
        to: { user: after.userId, role: after.roleId },
      };
      return { result: after, targetId: id, details };
    },
  });
}

/** 422 with a pointer per unknown user or role; returns the role's name. */
async function existingReferences(
  tx: Parameters<typeof missingReferences>[0],
  refs: { userId?: number; roleId?: number },
): Promise<string | null> {
  const missing = await missingReferences(tx, refs);
  const errors: FieldError[] = [];
  if (missing.user) errors.push({ pointer: "/user", detail: "No user has this id" });
  if (missing.role) errors.push({ pointer: "/role", detail: "No role has this id" });
  if (errors.length > 0) {
    throw new ProblemError(422, "invalid-reference", "The user or role does not exist", { errors });
  }
  return missing.roleName;
}

function alreadyAssigned(e: unknown): never {
  if (sqlConstraint(e) === "user_roles_user_role_key") {
    throw new ProblemError(409, "duplicate-assignment", "The user already holds this role");
  }
  throw e;
}

function view(row: UserRoleRow) {
  return { id: row.id, user: row.userId, role: row.roleId, assigned_at: row.assignedAt.toISOString() };
}
