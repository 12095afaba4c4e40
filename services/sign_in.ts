import { findUserByLogin, replacePasswordHash, rolesAndPermissions, type UserRow } from "../db/users.ts";
import { RateLimited, Unauthenticated } from "../errors.ts";
import { signAccessToken } from "./access_tokens.ts";
import { actorOf, type ServiceContext } from "./context.ts";
import { needsRehash } from "./argon2_params.ts";
import { hashPassword, verifyAgainstNothing, verifyPassword } from "./passwords.ts";
import { reserveLoginAttempt } from "./login_throttle.ts";
import {
  revokeSession,
  revokeUserSessions,
  rotateRefreshToken,
  sessionOfRefreshToken,
  startSession,
} from "./sessions.ts";

export interface SignedIn {
  user: UserRow;
  roles: string[];
  access: string;
  refresh: string;
}

/** The single answer to every failed sign-in, so none tells which part was wrong (ASVS 2.2, 3.2). */
export function invalidCredentials(): Unauthenticated {
  return new Unauthenticated("invalid-credentials", "The credentials are invalid or the account cannot sign in");
}

/** A login that can name no account (control characters, a NUL, not printable ASCII): not worth a query. */
const IMPOSSIBLE_LOGIN = /[^\x21-\x7e]|^$/;

/**
 * Checks a username-or-email and password. Unknown users still cost one hash verification, and
 * suspended or deactivated accounts are checked in full before being refused the same way; a
 * login no account can have (a NUL byte, say) is an unknown user too, never a 422. Attempts are
 * reserved and throttled before the password is checked (services/login_throttle.ts). A hash made
 * with older argon2id settings is replaced after a successful check (services/argon2_params.ts).
 */
export async function signIn(ctx: ServiceContext, login: string, password: string): Promise<SignedIn> {
  const { db, config } = ctx.deps;
  const now = ctx.now;
  const user = IMPOSSIBLE_LOGIN.test(login) ? undefined : await findUserByLogin(db, login);
  const attempt = await reserveLoginAttempt(
    db,
    config,
    { accountId: user?.id ?? null, login },
    ctx.origin.ipAddress,
    now,
  );
  if (attempt.refused) {
    await ctx.uow.record({
      userId: user?.id ?? null,
      action: "login_failed",
      outcome: "denied",
      targetTable: user ? "users" : null,
      targetId: user?.id ?? null,
      details: { reason: "rate_limited" },
    });
    throw new RateLimited(attempt.refused.retryAfterSeconds);
  }
  if (attempt.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, attempt.delayMs));
  const passwordOk = user ? await verifyPassword(user.passwordHash, password) : await verifyAgainstNothing(password);
  if (!user || !passwordOk || user.accountStatus !== "active") {
    const reason = !user ? "unknown_user" : !passwordOk ? "wrong_password" : `account_${user.accountStatus}`;
    await ctx.uow.record({
      userId: user?.id ?? null,
      action: "login_failed",
      outcome: "denied",
      targetTable: "users",
      targetId: user?.id ?? null,
      details: { reason, ...(attempt.delayMs > 0 ? { delayed_ms: attempt.delayMs } : {}) },
    });
    throw invalidCredentials();
  }
  await attempt.succeeded();
  if (needsRehash(user.passwordHash)) {
    await replacePasswordHash(db, user.id, user.passwordHash, await hashPassword(password));
  }
  const session = await startSession(db, user.id, ctx.origin, now);
  const { roles } = await rolesAndPermissions(db, user.id);
  await ctx.uow.record({
    userId: user.id,
    role: roles.join(","),
    action: "login",
    outcome: "success",
    targetTable: "sessions",
    targetId: session.sessionId,
  });
  const access = await signAccessToken(ctx.deps.tokens, { userId: user.id, sessionId: session.sessionId });
  return { user, roles, access, refresh: session.refresh };
}

/** Rotates a refresh token; a replayed one revokes its session and is audited as `token_reuse`. */
export async function refreshSession(ctx: ServiceContext, refresh: string) {
  const result = await rotateRefreshToken(ctx.deps.db, refresh, ctx.now);
  if (result.kind === "reused") {
    await ctx.uow.record({
      userId: result.userId,
      action: "token_reuse",
      outcome: "denied",
      targetTable: "sessions",
      targetId: result.sessionId,
      details: { revoked: "session" },
    });
  }
  if (result.kind !== "rotated") {
    throw new Unauthenticated("invalid-refresh-token", "The refresh token is invalid, expired or revoked");
  }
  await ctx.uow.record({
    userId: result.userId,
    action: "token_refresh",
    outcome: "success",
    targetTable: "sessions",
    targetId: result.sessionId,
  });
  const access = await signAccessToken(ctx.deps.tokens, { userId: result.userId, sessionId: result.sessionId });
  return { access, refresh: result.refresh };
}

/** Ends sessions: the caller's own, and the one a presented refresh token belongs to if it is theirs. */
export async function signOut(ctx: ServiceContext, refresh?: string): Promise<void> {
  const principal = actorOf(ctx);
  const sessionIds = new Set([principal.sessionId]);
  const other = refresh ? await sessionOfRefreshToken(ctx.deps.db, refresh) : null;
  if (other?.userId === principal.userId) sessionIds.add(other.sessionId);
  await ctx.uow.write(async (tx) => {
    for (const sessionId of sessionIds) await revokeSession(tx, sessionId, "logout", ctx.now);
    return { result: undefined, rowIds: [...sessionIds] };
  }, { action: "logout", table: "sessions" });
}

/** "Sign out everywhere": ends every live session of a user (an administrator's action, audited). */
export async function signOutEverywhere(ctx: ServiceContext, userId: number): Promise<void> {
  actorOf(ctx);
  await ctx.uow.write(async (tx) => {
    await revokeUserSessions(tx, userId, "signed_out_everywhere", ctx.now);
    return { result: undefined, rowIds: [userId], details: { sessions: "revoked" } };
  }, { action: "logout", table: "users" });
}
