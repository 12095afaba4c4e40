/**
 * The admin console's sessions are the API's sessions (the `sessions` table): signing in at
 * `/admin/` opens one through the same sign-in service as `POST /token/`, so API logout,
 * suspension, password reset and "sign out everywhere" end it too. The cookie holds that
 * session's first refresh token (opaque, only its SHA-256 stored; it lapses with that token, 7 days
 * after sign-in); the console checks it without spending it, and a token spent elsewhere
 * (`/token/refresh/`) no longer opens the console.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { refreshTokens, sessions } from "../db/schema.ts";
import { Forbidden } from "../errors.ts";
import { addSeconds } from "./clock.ts";
import type { ServiceContext } from "./context.ts";
import { parseOpaqueToken, secretMatches } from "./opaque_tokens.ts";
import { loadPrincipal, revokeSession, sessionOfRefreshToken } from "./sessions.ts";
import { signIn } from "./sign_in.ts";

/**
 * Signs in at the console: `signIn` (the API's throttle, rate limits and records), then the
 * account must hold `admin:console`; if it does not, the session just opened is revoked at once
 * and the refusal recorded. Returns the cookie's value: the session's refresh token.
 */
export async function openConsoleSession(ctx: ServiceContext, login: string, password: string): Promise<string> {
  const { db } = ctx.deps;
  const { refresh, user } = await signIn(ctx, login, password);
  const session = await sessionOfRefreshToken(db, refresh);
  const principal = session && await loadPrincipal(db, user.id, session.sessionId, ctx.now);
  if (principal?.permissions.has("admin:console")) return refresh;
  if (session) await revokeSession(db, session.sessionId, "console_refused", ctx.now);
  await ctx.uow.record({
    userId: user.id,
    action: "access_denied",
    outcome: "denied",
    targetTable: "sessions",
    targetId: session?.sessionId ?? null,
    details: { permission: "admin:console", session: "revoked" },
  });
  throw new Forbidden("This account cannot use the admin console");
}

export interface ConsoleSession {
  userId: number;
  sessionId: string;
}

/**
 * The live session behind a console cookie, its idle clock restarted; null when the token is
 * unknown, spent, expired or revoked. A session idle longer than `idleSeconds` is revoked
 * (`idle_timeout`) and reads as none.
 */
export async function consoleSessionOf(
  db: Database,
  cookie: string | undefined,
  now: Date,
  idleSeconds: number,
): Promise<ConsoleSession | null> {
  const parsed = cookie ? parseOpaqueToken(cookie) : null;
  if (!parsed) return null;
  const [row] = await db.select({
    secretHash: refreshTokens.secretHash,
    sessionId: sessions.id,
    userId: sessions.userId,
    lastUsedAt: sessions.lastUsedAt,
  })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(and(
      eq(refreshTokens.id, parsed.id),
      isNull(refreshTokens.spentAt),
      gt(refreshTokens.expiresAt, now),
      isNull(sessions.revokedAt),
      gt(sessions.expiresAt, now),
    ));
  if (!row || !(await secretMatches(parsed.secret, row.secretHash))) return null;
  if (addSeconds(row.lastUsedAt, idleSeconds) <= now) {
    await revokeSession(db, row.sessionId, "idle_timeout", now);
    return null;
  }
  await db.update(sessions).set({ lastUsedAt: now }).where(eq(sessions.id, row.sessionId));
  return { userId: row.userId, sessionId: row.sessionId };
}

/**
 * The CSRF token of a console session: derived from the cookie's secret, which a page of another
 * origin can neither read nor guess (a synchronizer token without server state, ASVS 4.2.2).
 */
export async function csrfTokenOf(cookie: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`console-csrf:${cookie}`));
  return toBase64Url(new Uint8Array(digest));
}

/** Compares two tokens in time independent of where they differ. */
export function sameToken(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** A random token for a form shown before sign-in (double-submitted with a cookie). */
export function randomToken(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
