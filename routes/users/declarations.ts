/** Who may do what with accounts: one screen. */
import { pageOf } from "../_list.ts";
import { declareRoute, declareUpdate, jsonBody, jsonResponse, problems } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { User } from "../_schemas.ts";
import { ListQuery, UserChange, UserCreate } from "./schemas.ts";

/** Patients and doctors hold no `users:*` permission: they reach their own account only. */
const reads = { kind: "signed-in", policy: "users:self", any: "users:read:any" } as const;
const changes = { kind: "signed-in", policy: "users:self", any: "users:write:any" } as const;
const admin = { kind: "permission", permission: "users:write:any", policy: "all" } as const;
const TABLE = "users";
const tags = ["users"];

export const list = declareRoute({
  method: "get",
  path: "/users",
  operationId: "users_list",
  tags,
  summary: "User accounts: an administrator sees every account, anyone else only their own",
  access: reads,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of users", pageOf(User)), ...problems(400, 401) },
});

export const get = declareRoute({
  method: "get",
  path: "/users/{id}",
  operationId: "users_read",
  tags,
  summary: "One user account",
  access: reads,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The user", User), ...problems(401, 404) },
});

export const create = declareRoute({
  method: "post",
  path: "/users",
  operationId: "users_create",
  tags,
  summary: "Create an account (administrators); it has no role until one is assigned through /userroles/",
  access: admin,
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(UserCreate),
  responses: { 201: jsonResponse("The new user", User), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

export const [put, patch] = declareUpdate({
  path: "/users/{id}",
  operationId: "users",
  tags,
  summary: "Change an account (PUT: the contact fields and optionally more)",
  description: "Others than administrators may change only their own `email`, `phone` and password; " +
    "a password change needs `current_password` and ends the account's other sessions. " +
    "Suspending or deactivating an account ends all its sessions.",
  access: changes,
  audit: { action: "update", table: TABLE },
  params: IdParam,
  body: UserChange,
  bodyName: "User",
  responses: { 200: jsonResponse("The user", User), ...problems(400, 401, 404, 409, 413, 415, 422, 429) },
});

export const remove = declareRoute({
  method: "delete",
  path: "/users/{id}",
  operationId: "users_delete",
  tags,
  summary: "Deactivate an account (administrators)",
  description: "The account is kept, deactivated, and all its sessions end: health records, messages and the " +
    "audit trail refer to it and must keep doing so. An administrator cannot deactivate their own account.",
  access: admin,
  audit: { action: "update", table: TABLE },
  request: { params: IdParam },
  responses: { 204: { description: "Deactivated" }, ...problems(401, 403, 404, 409) },
});
