import type { AppDeps, Principal } from "../app_env.ts";
import { ProblemError } from "../middleware/problem.ts";
import { signAccessToken } from "./access_tokens.ts";
import { recordAudit, type RequestOrigin } from "./audit.ts";
import { verifyAgainstNothing, verifyPassword } from "./passwords.ts";
import { hit, type Limit, peek } from "./rate_limit.ts";
import { revokeSession, rotateRefreshToken, sessionOfRefreshToken, startSession } from "./sessions.ts";
import { findUserByLogin, rolesAndPermissions, type UserRow } from "./users.ts";

export interface SignedIn {
  user: UserRow;
  roles: string[];
  access: string;
  refresh: string;
}

/** The single answer to every failed sign-in, so none tells which part was wrong (ASVS 2.2, 3.2). */
export function invalidCredentials(): ProblemError {
  return new ProblemError(401, "invalid-credentials", "The credentials are invalid or the account cannot sign in", {
    headers: { "WWW-Authenticate": 'Bearer realm="patient-portal"' },
  });
}

export function rateLimited(retryAfterSeconds: number): ProblemError {
  return new ProblemError(429, "rate-limited", "Too many attempts; try again later", {
    headers: { "Retry-After": String(retryAfterSeconds) },
  });
}

/**
 * Checks a username-or-email and password. Unknown users still cost one hash verification, and
 * suspended or deactivated accounts are checked in full before being refused the same way.
 * Throttled per IP (every attempt) and per login name (failures), in the database.
 */
export async function signIn(deps: AppDeps, origin: RequestOrigin, login: string, password: string): Promise<SignedIn> {
  const { db, config } = deps;
  const now = deps.clock();
  const window = config.RATE_LIMIT_WINDOW_SECONDS;
  const perIp: Limit = {
    bucket: `login:ip:${origin.ipAddress ?? "unknown"}`,
    max: config.RATE_LIMIT_LOGIN_PER_IP,
    windowSeconds: window,
  };
  const perUser: Limit = {
    bucket: `login:user:${login.toLowerCase()}`,
    max: config.RATE_LIMIT_LOGIN_PER_USER,
    windowSeconds: window,
  };
  for (const state of [await hit(db, perIp, now), await peek(db, perUser, now)]) {
    if (state.limited) {
      await recordAudit(db, origin, { action: "login_failed", outcome: "denied", details: { reason: "rate_limited" } });
      throw rateLimited(state.retryAfterSeconds);
    }
  }
  const user = await findUserByLogin(db, login);
  const passwordOk = user ? await verifyPassword(user.passwordHash, password) : await verifyAgainstNothing(password);
  if (!user || !passwordOk || user.accountStatus !== "active") {
    await hit(db, perUser, now);
    const reason = !user ? "unknown_user" : !passwordOk ? "wrong_password" : `account_${user.accountStatus}`;
    await recordAudit(db, origin, {
      userId: user?.id ?? null,
      action: "login_failed",
      outcome: "denied",
      targetTable: "users",
      targetId: user?.id ?? null,
      details: { reason },
    });
    throw invalidCredentials();
  }
  const session = await startSession(db, user.id, origin, now);
  const { roles } = await rolesAndPermissions(db, user.id);
  await recordAudit(db, origin, {
    userId: user.id,
    role: roles.join(","),
    action: "login",
    outcome: "success",
    targetTable: "sessions",
    targetId: session.sessionId,
  });
  const access = await signAccessToken(deps.tokens, { userId: user.id, sessionId: session.sessionId });
  return { user, roles, access, refresh: session.refresh };
}

/** Rotates a refresh token; a replayed one revokes its session and is audited as `token_reuse`. */
export async function refreshSession(deps: AppDeps, origin: RequestOrigin, refresh: string) {
  const result = await rotateRefreshToken(deps.db, refresh, deps.clock());
  if (result.kind === "reused") {
    await recordAudit(deps.db, origin, {
      userId: result.userId,
      action: "token_reuse",
      outcome: "denied",
      targetTable: "sessions",
      targetId: result.sessionId,
      details: { revoked: "session" },
    });
  }
  if (result.kind !== "rotated") {
    throw new ProblemError(401, "invalid-refresh-token", "The refresh token is invalid, expired or revoked");
  }
  await recordAudit(deps.db, origin, {
    userId: result.userId,
    action: "token_refresh",
    outcome: "success",
    targetTable: "sessions",
    targetId: result.sessionId,
  });
  const access = await signAccessToken(deps.tokens, { userId: result.userId, sessionId: result.sessionId });
  return { access, refresh: result.refresh };
}

/** Ends sessions: the caller's own, and the one a presented refresh token belongs to if it is theirs. */
export async function signOut(deps: AppDeps, origin: RequestOrigin, principal: Principal, refresh?: string) {
  const { userId } = principal;
  const sessionIds = [principal.sessionId];
  const other = refresh ? await sessionOfRefreshToken(deps.db, refresh) : null;
  if (other?.userId === userId) sessionIds.push(other.sessionId);
  const now = deps.clock();
  await deps.db.transaction(async (tx) => {
    for (const sessionId of new Set(sessionIds)) {
      await revokeSession(tx, sessionId, "logout", now);
      await recordAudit(tx, origin, {
        userId,
        action: "logout",
        outcome: "success",
        targetTable: "sessions",
        targetId: sessionId,
      });
    }
  });
}
