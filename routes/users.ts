import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv, RowScope } from "../app_env.ts";
import { publicUrl } from "../config.ts";
import { someoneCanAssignRoles } from "../db/roles.ts";
import {
  findUser,
  insertUser,
  listUsers,
  lockUser,
  revokeSessionsExcept,
  updateUser,
  USER_ORDERINGS,
  type UserChanges,
  type UserWithRoles,
} from "../db/users.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { notFound, ProblemError } from "../middleware/problem.ts";
import { keyset, orderingQuery, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { hashPassword, PASSWORD_MAX_LENGTH, passwordProblem, verifyPassword } from "../services/passwords.ts";
import { hit, peek } from "../services/rate_limit.ts";
import { revokeUserSessions } from "../services/sessions.ts";
import { rateLimited } from "../services/sign_in.ts";
import { auditedChange, userView } from "../services/users.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { IdParam, pageOf } from "./_schemas.ts";
import { duplicateAccount, passwordRefused } from "./auth.ts";
import { email, phone, User, username } from "./auth_schemas.ts";

const STATUSES = ["active", "suspended", "deactivated"] as const;
const accountStatus = z.enum(STATUSES);
const password = z.string().min(1).max(PASSWORD_MAX_LENGTH * 4).openapi({ writeOnly: true });

const UserCreate = z.strictObject({
  username,
  email,
  password,
  phone: phone.nullable().optional(),
  account_status: accountStatus.optional(),
}).openapi("UserCreate");
const changeable = {
  username,
  email,
  phone: phone.nullable(),
  account_status: accountStatus,
  password,
  current_password: password.openapi({ description: "Required to change your own password" }),
};
const UserPut = z.strictObject(changeable).partial().required({ email: true, phone: true }).openapi("UserUpdate");
const UserPatch = z.strictObject(changeable).partial().openapi("UserPatch");
type UserChange = z.infer<typeof UserPatch>;

const ORDERINGS = Object.keys(USER_ORDERINGS) as (keyof typeof USER_ORDERINGS)[];
const ListQuery = z.object({
  ...pageQuery,
  ordering: orderingQuery(ORDERINGS, "id"),
  account_status: accountStatus.optional(),
  role: z.string().max(50).optional().openapi({ description: "Role name" }),
});

const SELF_OR_ANY =
  "Without `users:read:any` (or `users:write:any` for changes) the caller reaches only their own account";
const adminOnly = { kind: "permission", permission: "users:write:any", scope: "all" } as const;
const TABLE = "users";

const list = declareRoute({
  method: "get",
  path: "/users",
  operationId: "users_list",
  tags: ["users"],
  summary: "User accounts: an administrator sees every account, anyone else only their own",
  description: SELF_OR_ANY,
  access: { kind: "signed-in" },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of users", pageOf(User)), ...problems(400, 401) },
});

const get = declareRoute({
  method: "get",
  path: "/users/{id}",
  operationId: "users_read",
  tags: ["users"],
  summary: "One user account",
  description: SELF_OR_ANY,
  access: { kind: "signed-in" },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The user", User), ...problems(401, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/users",
  operationId: "users_create",
  tags: ["users"],
  summary: "Create an account (administrators); it has no role until one is assigned through /userroles/",
  access: adminOnly,
  idempotent: true,
  request: jsonBody(UserCreate),
  responses: { 201: jsonResponse("The new user", User), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

const CHANGE_RULES = "Others than administrators may change only their own `email`, `phone` and password; " +
  "a password change needs `current_password` and ends the account's other sessions. " +
  "Suspending or deactivating an account ends all its sessions.";

const put = declareRoute({
  method: "put",
  path: "/users/{id}",
  operationId: "users_update",
  tags: ["users"],
  summary: "Replace the contact fields of an account (and optionally more)",
  description: CHANGE_RULES,
  access: { kind: "signed-in" },
  request: { params: IdParam, ...jsonBody(UserPut) },
  responses: { 200: jsonResponse("The user", User), ...problems(400, 401, 404, 409, 413, 415, 422, 429) },
});

const patch = declareRoute({
  method: "patch",
  path: "/users/{id}",
  operationId: "users_partial_update",
  tags: ["users"],
  summary: "Change some fields of an account",
  description: CHANGE_RULES,
  access: { kind: "signed-in" },
  request: { params: IdParam, ...jsonBody(UserPatch) },
  responses: { 200: jsonResponse("The user", User), ...problems(400, 401, 404, 409, 413, 415, 422, 429) },
});

const remove = declareRoute({
  method: "delete",
  path: "/users/{id}",
  operationId: "users_delete",
  tags: ["users"],
  summary: "Deactivate an account (administrators)",
  description: "The account is kept, deactivated, and all its sessions end: health records, messages and the " +
    "audit trail refer to it and must keep doing so. An administrator cannot deactivate their own account.",
  access: adminOnly,
  request: { params: IdParam },
  responses: { 204: { description: "Deactivated" }, ...problems(401, 403, 404, 409) },
});

/**
 * The accounts the caller reaches on /users/: every one with `users:read:any` (reads) or
 * `users:write:any` (changes), otherwise only their own, so patients and doctors, who hold no
 * `users:*` permission, can still see and edit themselves.
 */
function userScope(c: Context<AppEnv>, verb: "read" | "write"): RowScope {
  const principal = principalOf(c);
  return principal.permissions.has(`users:${verb}:any`) ? { kind: "any" } : { kind: "self", userId: principal.userId };
}

export function userRoutes() {
  const app = newRouter();

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = keyset({
      ordering: q.ordering,
      columns: USER_ORDERINGS,
      id: USER_ORDERINGS.id,
      pageSize: q.page_size,
      cursor: q.cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const field = q.ordering.replace(/^-/, "") as keyof typeof USER_ORDERINGS;
    const rows = await listUsers(c.get("deps").db, userScope(c, "read"), {
      accountStatus: q.account_status,
      role: q.role,
      ...page,
    });
    return c.json(page.page(rows, (r) => ({ value: sortValue(r, field), id: r.id }), view), 200);
  });

  app.openapi(get, async (c) => {
    const row = await findUser(c.get("deps").db, userScope(c, "read"), c.req.valid("param").id);
    if (!row) throw notFound();
    return c.json(view(row), 200);
  });

  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    let passwordHash = "";
    const row = await auditedChange(c, { action: "create", table: TABLE }, {
      check: async () => {
        const problem = passwordProblem(body.password, [body.username, body.email.split("@")[0]]);
        if (problem) throw passwordRefused("/password", problem);
        passwordHash = await hashPassword(body.password);
      },
      change: async (tx) => {
        const created = await insertUser(tx, {
          username: body.username,
          email: body.email,
          passwordHash,
          phone: body.phone ?? null,
          accountStatus: body.account_status ?? "active",
        }).catch(duplicateAccount);
        return { result: view(created), targetId: created.id, details: { account_status: created.accountStatus } };
      },
    });
    return c.json(row, 201);
  });

  app.openapi(put, async (c) => c.json(view(await changeUser(c, c.req.valid("param").id, c.req.valid("json"))), 200));
  app.openapi(patch, async (c) => c.json(view(await changeUser(c, c.req.valid("param").id, c.req.valid("json"))), 200));

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    const now = c.get("deps").clock();
    await auditedChange(c, { action: "update", table: TABLE }, {
      change: async (tx) => {
        const before = await lockUser(tx, { kind: "any" }, id);
        if (!before) throw notFound();
        if (id === principalOf(c).userId) {
          throw new ProblemError(409, "conflict", "You cannot deactivate your own account");
        }
        await updateUser(tx, { kind: "any" }, id, { accountStatus: "deactivated" }, now);
        await revokeUserSessions(tx, id, "account_deactivated", now);
        await keepSomeoneWhoCanAssignRoles(tx);
        const details = { account_status: { from: before.accountStatus, to: "deactivated" }, sessions: "revoked" };
        return { result: null, targetId: id, details };
      },
    });
    return c.body(null, 204);
  });

  return app;
}

/**
 * PUT and PATCH: contact fields for everyone on their own account; username and status for
 * holders of `users:write:any`; the password with the current one (own account) or without it
 * (an administrator resetting someone else's). Password and status changes end sessions.
 */
async function changeUser(c: Context<AppEnv>, id: number, body: UserChange): Promise<UserWithRoles> {
  const principal = principalOf(c);
  const scope = userScope(c, "write");
  const { db, clock, config } = c.get("deps");
  const now = clock();
  const self = id === principal.userId;
  let passwordHash: string | undefined;
  return await auditedChange(c, { action: "update", table: TABLE }, {
    check: async () => {
      const current = await findUser(db, scope, id);
      if (!current) throw notFound();
      if (scope.kind !== "any") {
        for (const field of ["username", "account_status"] as const) {
          if (body[field] !== undefined) throw invalid(`/${field}`, "Only an administrator may change this");
        }
      }
      if (self && body.account_status !== undefined && body.account_status !== current.accountStatus) {
        throw invalid("/account_status", "You cannot change the status of your own account");
      }
      if (body.current_password !== undefined && body.password === undefined) {
        throw invalid("/current_password", "Send it only with a new password");
      }
      if (body.password === undefined) return;
      if (self) {
        const limit = {
          bucket: `password-change:user:${id}`,
          max: config.RATE_LIMIT_LOGIN_PER_USER,
          windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
        };
        const state = await peek(db, limit, now);
        if (state.limited) throw rateLimited(state.retryAfterSeconds);
        if (body.current_password === undefined) {
          throw invalid("/current_password", "Your current password is required to change it");
        }
        if (!(await verifyPassword(current.passwordHash, body.current_password))) {
          await hit(db, limit, now);
          throw invalid("/current_password", "Does not match your current password");
        }
      }
      const name = body.username ?? current.username;
      const address = body.email ?? current.email;
      const problem = passwordProblem(body.password, [name, address.split("@")[0]]);
      if (problem) throw passwordRefused("/password", problem);
      passwordHash = await hashPassword(body.password);
    },
    change: async (tx) => {
      const before = await lockUser(tx, scope, id);
      if (!before) throw notFound();
      const changes: UserChanges = {
        username: body.username,
        email: body.email,
        phone: body.phone,
        accountStatus: body.account_status,
        passwordHash,
      };
      for (const key of Object.keys(changes) as (keyof UserChanges)[]) {
        if (changes[key] === undefined) delete changes[key];
      }
      const after = (await updateUser(tx, scope, id, changes, now).catch(duplicateAccount))!;
      const details: Record<string, unknown> = {
        fields: Object.keys(body).filter((f) => f !== "current_password"),
      };
      if (after.accountStatus !== before.accountStatus) {
        details.account_status = { from: before.accountStatus, to: after.accountStatus };
        if (after.accountStatus !== "active") {
          await revokeUserSessions(tx, id, `account_${after.accountStatus}`, now);
          details.sessions = "revoked";
          await keepSomeoneWhoCanAssignRoles(tx);
        }
      }
      if (passwordHash) {
        // Your own change keeps the session it was made from; an administrator's ends every one.
        const keep = self ? principal.sessionId : null;
        details.password = "changed";
        details.sessions_revoked = await revokeSessionsExcept(tx, id, keep, "password_change", now);
      }
      return { result: after, targetId: id, details };
    },
  });
}

/** Refuses a change that would leave no active account able to assign roles (no way back through the API). */
export async function keepSomeoneWhoCanAssignRoles(tx: Parameters<typeof someoneCanAssignRoles>[0]): Promise<void> {
  if (!(await someoneCanAssignRoles(tx))) {
    throw new ProblemError(409, "conflict", "This change would leave no active account able to assign roles");
  }
}

function invalid(pointer: string, detail: string): ProblemError {
  return new ProblemError(422, "validation", "The request body is invalid", { errors: [{ pointer, detail }] });
}

function sortValue(row: UserWithRoles, field: keyof typeof USER_ORDERINGS): unknown {
  return { id: row.id, username: row.username, created_at: row.createdAt }[field];
}

function view(row: UserWithRoles) {
  return userView(row, row.roles);
}
