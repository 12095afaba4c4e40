/** Role assignments: who may do what (one screen) and the handlers. */
import { z } from "@hono/zod-openapi";
import { contextOf } from "../../middleware/service_context.ts";
import * as roles from "../../services/roles.ts";
import { page, pageOf, pageQuery, pageRequest } from "../_list.ts";
import { declareRoute, declareUpdate, jsonBody, jsonResponse, newRouter, problems } from "../_route.ts";
import { IdParam, idText, ownerField } from "../_schemas.ts";

const UserRole = z.object({
  id: z.number().int(),
  user: z.number().int(),
  role: z.number().int(),
  assigned_at: z.string(),
}).openapi("UserRole");

const Assignment = z.strictObject({ user: ownerField, role: ownerField });
const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["id", "-id", "assigned_at", "-assigned_at"]).default("id"),
  user: idText.optional().openapi({ description: "User id" }),
  role: idText.optional().openapi({ description: "Role id" }),
});

const read = { kind: "permission", permission: "userroles:read", policy: "all" } as const;
const write = { kind: "permission", permission: "userroles:write", policy: "all" } as const;
const AUDIT = { action: "permission_change", table: "user_roles" } as const;
const NEXT_REQUEST = "The user's permissions change on their next request; their tokens need not be renewed.";
const tags = ["roles"];

const list = declareRoute({
  method: "get",
  path: "/userroles",
  operationId: "userroles_list",
  tags,
  summary: "Role assignments",
  access: read,
  audit: { action: "list", table: "user_roles" },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of assignments", pageOf(UserRole)), ...problems(400, 401, 403) },
});

const get = declareRoute({
  method: "get",
  path: "/userroles/{id}",
  operationId: "userroles_read",
  tags,
  summary: "One role assignment",
  access: read,
  audit: { action: "read", table: "user_roles" },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The assignment", UserRole), ...problems(401, 403, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/userroles",
  operationId: "userroles_create",
  tags,
  summary: "Give a user a role",
  description: NEXT_REQUEST,
  access: write,
  audit: AUDIT,
  idempotent: true,
  request: jsonBody(Assignment.openapi("UserRoleCreate")),
  responses: { 201: jsonResponse("The assignment", UserRole), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

const [put, patch] = declareUpdate({
  path: "/userroles/{id}",
  operationId: "userroles",
  tags,
  summary: "Point an assignment at another user or role (counts as assigned anew)",
  description: NEXT_REQUEST,
  access: write,
  audit: AUDIT,
  params: IdParam,
  body: Assignment,
  bodyName: "UserRole",
  responses: { 200: jsonResponse("The assignment", UserRole), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

const remove = declareRoute({
  method: "delete",
  path: "/userroles/{id}",
  operationId: "userroles_delete",
  tags,
  summary: "Take a role away from a user",
  description: NEXT_REQUEST,
  access: write,
  audit: AUDIT,
  request: { params: IdParam },
  responses: { 204: { description: "Removed" }, ...problems(401, 403, 404, 409) },
});

export function userRoleRoutes() {
  const app = newRouter();
  app.openapi(list, async (c) => {
    const { user, role, ...q } = c.req.valid("query");
    return c.json(page(c, await roles.listAssignments(contextOf(c), { user, role }, pageRequest(q)), view), 200);
  });
  app.openapi(get, async (c) => c.json(view(await roles.readAssignment(contextOf(c), c.req.valid("param").id)), 200));
  app.openapi(create, async (c) => {
    const row = await roles.assignRole(contextOf(c, { respond: view }), c.req.valid("json"));
    return c.json(view(row), 201);
  });
  for (const route of [put, patch]) {
    app.openapi(route, async (c) => {
      return c.json(view(await roles.reassignRole(contextOf(c), c.req.valid("param").id, c.req.valid("json"))), 200);
    });
  }
  app.openapi(remove, async (c) => {
    await roles.removeAssignment(contextOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  return app;
}

function view(row: roles.UserRoleRow) {
  return { id: row.id, user: row.userId, role: row.roleId, assigned_at: row.assignedAt.toISOString() };
}
