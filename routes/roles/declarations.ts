/** Who may do what with roles and the permission catalogue: one screen. */
import { z } from "@hono/zod-openapi";
import { ALL_PERMISSIONS } from "../../services/permissions.ts";
import { pageOf, pageQuery } from "../_list.ts";
import { declareRoute, declareUpdate, jsonBody, jsonResponse, problems } from "../_route.ts";
import { IdParam } from "../_schemas.ts";

export const Permission = z.object({ code: z.enum(ALL_PERMISSIONS), description: z.string() }).openapi("Permission");

export const Role = z.object({
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
/** PUT and create require the name and the permissions; PATCH takes any of these. */
const RoleFields = z.strictObject({
  role_name: roleName,
  description: z.string().max(500).optional(),
  permissions: z.array(permissionCode).max(ALL_PERMISSIONS.length * 2),
});
const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["id", "-id", "role_name", "-role_name"]).default("id"),
});

const anyone = { kind: "signed-in", policy: "all" } as const;
const write = { kind: "permission", permission: "roles:write", policy: "all" } as const;
const AUDIT = { action: "permission_change", table: "roles" } as const;
const tags = ["roles"];
const BUILTIN = "Built-in roles (`admin`, `doctor`, `patient`) keep their names; their permissions may change.";

export const permissions = declareRoute({
  method: "get",
  path: "/permissions",
  operationId: "permissions_list",
  tags,
  summary: "The fixed catalogue of permission codes roles are made of",
  access: anyone,
  responses: { 200: jsonResponse("Every permission", z.array(Permission)), ...problems(401) },
});

export const list = declareRoute({
  method: "get",
  path: "/roles",
  operationId: "roles_list",
  tags,
  summary: "Roles and their permissions",
  access: anyone,
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of roles", pageOf(Role)), ...problems(400, 401) },
});

export const get = declareRoute({
  method: "get",
  path: "/roles/{id}",
  operationId: "roles_read",
  tags,
  summary: "One role",
  access: anyone,
  request: { params: IdParam },
  responses: { 200: jsonResponse("The role", Role), ...problems(401, 404) },
});

export const create = declareRoute({
  method: "post",
  path: "/roles",
  operationId: "roles_create",
  tags,
  summary: "Create a role from catalogue permissions; it takes effect for its holders on their next request",
  access: write,
  audit: AUDIT,
  idempotent: true,
  request: jsonBody(RoleFields.openapi("RoleCreate")),
  responses: { 201: jsonResponse("The new role", Role), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

export const [put, patch] = declareUpdate({
  path: "/roles/{id}",
  operationId: "roles",
  tags,
  summary: "Change a role's name, description or permissions (PUT: all of them)",
  description: BUILTIN,
  access: write,
  audit: AUDIT,
  params: IdParam,
  body: RoleFields,
  bodyName: "Role",
  responses: { 200: jsonResponse("The role", Role), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

export const remove = declareRoute({
  method: "delete",
  path: "/roles/{id}",
  operationId: "roles_delete",
  tags,
  summary: "Delete a role that no one holds; built-in roles cannot be deleted",
  access: write,
  audit: AUDIT,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404, 409) },
});
