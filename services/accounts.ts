/**
 * Accounts: registration, the users an administrator manages, and each user's own account, each
 * in one unit of work through the caller's scope (`users:self`; every account with `users:*:any`).
 */
import * as repo from "../db/users.ts";
import { invalid, NotFound, RateLimited } from "../errors.ts";
import { type AccountChange, planAccountChange } from "./account_rules.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";
import { checkPasswordPolicy, hashPassword, verifyPassword } from "./passwords.ts";
import { clientKey, hit, release } from "./rate_limit.ts";
import { keepSomeoneWhoCanAssignRoles } from "./roles.ts";
import { revokeUserSessions } from "./sessions.ts";
import { notifyEmailChanged } from "./account_mail.ts";

export type { UserWithRoles } from "../db/users.ts";
export type { AccountChange };
type UserWithRoles = repo.UserWithRoles;

export interface Registration {
  username: string;
  email: string;
  password: string;
  phone?: string | null;
  firstName?: string;
  lastName?: string;
  dateOfBirth?: string;
}

/**
 * A new patient: the patient role and an empty profile, never client-chosen roles. Throttled per
 * address, and the cheap checks (policy, a name or address already taken) come before the costly
 * hash, so a flood of registrations cannot buy argon2id time by the request.
 */
export async function registerPatient(ctx: ServiceContext, input: Registration): Promise<UserWithRoles> {
  const { db, config } = ctx.deps;
  const passwordHash = await ctx.uow.check(async () => {
    const limit = { bucket: `register:ip:${clientKey(ctx.origin.ipAddress)}`, windowSeconds: 3600 };
    const state = await hit(db, { ...limit, max: config.RATE_LIMIT_REGISTER_PER_IP }, ctx.now);
    if (state.limited) throw new RateLimited(state.retryAfterSeconds);
    checkPasswordPolicy(input.password, "/password", input);
    await repo.refuseTakenAccount(db, input.username, input.email);
    return await hashPassword(input.password);
  }, { action: "create", table: "users" });
  return await ctx.uow.write(async (tx) => {
    const user = await repo.insertAccount(tx, {
      username: input.username,
      email: input.email,
      passwordHash,
      phone: input.phone,
      roleNames: ["patient"],
      patientProfile: { firstName: input.firstName, lastName: input.lastName, dateOfBirth: input.dateOfBirth },
    });
    return { result: user, rowIds: [user.id], patientIds: [user.id], details: { roles: ["patient"] } };
  }, { action: "create", table: "users" });
}

export function listUsers(
  ctx: ServiceContext,
  filters: { accountStatus?: string; role?: string; search?: string },
  page: PageRequest,
): Promise<Slice<UserWithRoles>> {
  const scope = scopeOf(ctx, "users");
  const pager = keyset(page, repo.USER_ORDERINGS, repo.USER_ID, ctx.deps.tokens.keys.cursorKey);
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await repo.listUsers(db, scope, { ...filters, ...pager }));
    return { result: slice, rowIds: slice.rows.map((u) => u.id) };
  });
}

export function readUser(ctx: ServiceContext, id: number): Promise<UserWithRoles> {
  const scope = scopeOf(ctx, "users");
  return ctx.uow.read(async (db) => {
    const found = await repo.findUser(db, scope, id);
    if (!found) throw new NotFound();
    return { result: found, rowIds: [id] };
  });
}

/** An administrator creates an account; it has no role until one is assigned. */
export async function createUser(
  ctx: ServiceContext,
  input: { username: string; email: string; password: string; phone?: string | null; accountStatus?: string },
): Promise<UserWithRoles> {
  checkPasswordPolicy(input.password, "/password", input);
  const passwordHash = await hashPassword(input.password);
  return await ctx.uow.write(async (tx) => {
    const created = await repo.insertAccount(tx, { ...input, passwordHash, roleNames: [] });
    return { result: created, rowIds: [created.id], details: { account_status: created.accountStatus } };
  });
}

/**
 * PUT and PATCH: contact fields for everyone on their own account; username and status for
 * holders of `users:write:any`; the password with the current one (own account) or without it
 * (an administrator resetting someone else's). Password and status changes end sessions.
 */
export async function changeUser(ctx: ServiceContext, id: number, change: AccountChange): Promise<UserWithRoles> {
  const me = actorOf(ctx);
  const scope = scopeOf(ctx, "users");
  const self = id === me.userId;
  const { db, config } = ctx.deps;
  // Password checks and hashing run before the transaction (a wrong guess must count even though nothing changes).
  const { plan, passwordHash } = await ctx.uow.check(async () => {
    const current = await repo.findUser(db, scope, id);
    if (!current) throw new NotFound();
    const plan = planAccountChange(current, change, { self, admin: scope.unrestricted });
    if (self && (plan.passwordChange || plan.emailChange)) {
      await checkCurrentPassword(ctx, current, change.current_password!, config);
    }
    if (!plan.passwordChange) return { plan, passwordHash: undefined };
    checkPasswordPolicy(change.password!, "/password", plan);
    return { plan, passwordHash: await hashPassword(change.password!) };
  });
  const changed = await ctx.uow.write(async (tx) => {
    const before = await repo.findUser(tx, scope, id, { lock: true });
    if (!before) throw new NotFound();
    const after = await repo.updateUser(tx, before, { ...plan.changes, passwordHash }, ctx.now);
    const details: Record<string, unknown> = { fields: Object.keys(change).filter((f) => f !== "current_password") };
    if (after.accountStatus !== before.accountStatus) {
      details.account_status = { from: before.accountStatus, to: after.accountStatus };
      if (after.accountStatus !== "active") {
        await revokeUserSessions(tx, id, `account_${after.accountStatus}`, ctx.now);
        details.sessions = "revoked";
        await keepSomeoneWhoCanAssignRoles(tx);
      }
    }
    if (passwordHash) {
      // Your own change keeps the session it was made from; an administrator's ends every one.
      details.password = "changed";
      details.sessions_revoked = await repo.revokeSessionsExcept(
        tx,
        id,
        self ? me.sessionId : null,
        "password_change",
        ctx.now,
      );
    }
    if (after.email !== before.email) details.email = "changed";
    return { result: { after, oldEmail: before.email }, rowIds: [id], details };
  });
  if (changed.after.email !== changed.oldEmail) {
    const account = { id, username: changed.after.username, oldEmail: changed.oldEmail, newEmail: changed.after.email };
    notifyEmailChanged(ctx.deps, account, !self, ctx.now);
  }
  return changed.after;
}

/** Administrators deactivate (never delete) an account; its sessions end. Not their own. */
export function deactivateUser(ctx: ServiceContext, id: number): Promise<void> {
  const me = actorOf(ctx);
  const scope = scopeOf(ctx, "users");
  return ctx.uow.write(async (tx) => {
    const before = await repo.findUser(tx, scope, id, { lock: true });
    if (!before) throw new NotFound();
    planAccountChange(before, { account_status: "deactivated" }, {
      self: id === me.userId,
      admin: true,
      deleting: true,
    });
    await repo.updateUser(tx, before, { accountStatus: "deactivated" }, ctx.now);
    await revokeUserSessions(tx, id, "account_deactivated", ctx.now);
    await keepSomeoneWhoCanAssignRoles(tx);
    const details = { account_status: { from: before.accountStatus, to: "deactivated" }, sessions: "revoked" };
    return { result: undefined, rowIds: [id], details };
  }, { action: "update" });
}

/** Your own password change needs your current one; wrong guesses are throttled like sign-ins. */
async function checkCurrentPassword(
  ctx: ServiceContext,
  current: UserWithRoles,
  presented: string,
  config: ServiceContext["deps"]["config"],
): Promise<void> {
  const { db } = ctx.deps;
  const limit = {
    bucket: `password-change:user:${current.id}`,
    max: config.RATE_LIMIT_LOGIN_PER_USER,
    windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
  };
  // Reserved before the check (one atomic upsert), so concurrent guesses cannot overrun the limit.
  const state = await hit(db, limit, ctx.now);
  if (state.limited) throw new RateLimited(state.retryAfterSeconds);
  if (!(await verifyPassword(current.passwordHash, presented))) throw wrongCurrentPassword();
  await release(db, limit);
}

function wrongCurrentPassword() {
  return invalid("/current_password", "Does not match your current password");
}
