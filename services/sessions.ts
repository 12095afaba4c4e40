import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { USER_AGENT_MAX } from "../db/audit_logs.ts";
import type { Database } from "../db/client.ts";
import { preparedFor } from "../db/prepared.ts";
import { refreshTokens, rolePermissions, roles, sessions, userRoles, users } from "../db/schema.ts";
import { addSeconds } from "./clock.ts";
import { hashSecret, newOpaqueToken, parseOpaqueToken, secretMatches } from "./opaque_tokens.ts";
import { ALL_PERMISSIONS, isPermission, type Permission } from "./permissions.ts";

/** The signed-in caller, loaded fresh from the database on every request. */
export interface Principal {
  userId: number;
  sessionId: string;
  username: string;
  roles: string[];
  permissions: ReadonlySet<Permission>;
}

export const REFRESH_IDLE_SECONDS = 7 * 24 * 3600;
export const SESSION_ABSOLUTE_SECONDS = 30 * 24 * 3600;

export interface SessionOrigin {
  ipAddress: string | null;
  userAgent: string | null;
}

/** Opens a session for a user who just proved their password; returns its first refresh token. */
export async function startSession(
  db: Database,
  userId: number,
  origin: SessionOrigin,
  now: Date,
): Promise<{ sessionId: string; refresh: string }> {
  const sessionId = crypto.randomUUID();
  const token = newOpaqueToken();
  const expiresAt = addSeconds(now, SESSION_ABSOLUTE_SECONDS);
  await db.transaction(async (tx) => {
    await tx.insert(sessions).values({
      id: sessionId,
      userId,
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      ipAddress: origin.ipAddress,
      userAgent: origin.userAgent === null ? null : [...origin.userAgent].slice(0, USER_AGENT_MAX).join(""),
    });
    await tx.insert(refreshTokens).values({
      id: token.id,
      sessionId,
      secretHash: await hashSecret(token.secret),
      createdAt: now,
      expiresAt: minDate(addSeconds(now, REFRESH_IDLE_SECONDS), expiresAt),
    });
    await tx.update(users).set({ lastLogin: now }).where(eq(users.id, userId));
  });
  return { sessionId, refresh: token.token };
}

export type RotateResult =
  | { kind: "rotated"; userId: number; sessionId: string; refresh: string }
  | { kind: "invalid"; userId?: number; sessionId?: string }
  | { kind: "reused"; userId: number; sessionId: string };

/**
 * Spends a refresh token and issues its successor. Presenting a token that was already spent
 * means it leaked (or a client replayed it): the whole session is revoked, the newest token too.
 */
export async function rotateRefreshToken(db: Database, presented: string, now: Date): Promise<RotateResult> {
  const parsed = parseOpaqueToken(presented);
  if (!parsed) return { kind: "invalid" };
  return await db.transaction(async (tx): Promise<RotateResult> => {
    const [row] = await tx.select({
      secretHash: refreshTokens.secretHash,
      expiresAt: refreshTokens.expiresAt,
      spentAt: refreshTokens.spentAt,
      sessionId: sessions.id,
      sessionExpiresAt: sessions.expiresAt,
      revokedAt: sessions.revokedAt,
      userId: users.id,
      accountStatus: users.accountStatus,
    })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(refreshTokens.id, parsed.id))
      .for("update", { of: refreshTokens });
    if (!row || !(await secretMatches(parsed.secret, row.secretHash))) return { kind: "invalid" };
    const ids = { userId: row.userId, sessionId: row.sessionId };
    if (row.spentAt) {
      if (!row.revokedAt) await revokeWith(tx, eq(sessions.id, row.sessionId), "token_reuse", now);
      return { kind: "reused", ...ids };
    }
    const live = !row.revokedAt && row.sessionExpiresAt > now && row.expiresAt > now && row.accountStatus === "active";
    if (!live) return { kind: "invalid", ...ids };
    const next = newOpaqueToken();
    await tx.update(refreshTokens).set({ spentAt: now }).where(eq(refreshTokens.id, parsed.id));
    await tx.insert(refreshTokens).values({
      id: next.id,
      sessionId: row.sessionId,
      secretHash: await hashSecret(next.secret),
      createdAt: now,
      expiresAt: minDate(addSeconds(now, REFRESH_IDLE_SECONDS), row.sessionExpiresAt),
    });
    await tx.update(sessions).set({ lastUsedAt: now }).where(eq(sessions.id, row.sessionId));
    return { kind: "rotated", ...ids, refresh: next.token };
  });
}

/** Finds the live session a refresh token belongs to, without spending it (used by logout). */
export async function sessionOfRefreshToken(
  db: Database,
  presented: string,
): Promise<{ sessionId: string; userId: number } | null> {
  const parsed = parseOpaqueToken(presented);
  if (!parsed) return null;
  const [row] = await db.select({
    secretHash: refreshTokens.secretHash,
    sessionId: sessions.id,
    userId: sessions.userId,
  })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(and(eq(refreshTokens.id, parsed.id), isNull(sessions.revokedAt)));
  if (!row || !(await secretMatches(parsed.secret, row.secretHash))) return null;
  return { sessionId: row.sessionId, userId: row.userId };
}

type Executor = Pick<Database, "update">;

export async function revokeSession(db: Executor, sessionId: string, reason: string, now: Date): Promise<void> {
  await revokeWith(db, eq(sessions.id, sessionId), reason, now);
}

/** Ends every live session of a user (password reset or change, suspension). */
export async function revokeUserSessions(db: Executor, userId: number, reason: string, now: Date): Promise<void> {
  await revokeWith(db, eq(sessions.userId, userId), reason, now);
}

async function revokeWith(db: Executor, where: ReturnType<typeof eq>, reason: string, now: Date): Promise<void> {
  await db.update(sessions).set({ revokedAt: now, revokedReason: reason })
    .where(and(where, isNull(sessions.revokedAt)));
}

const principalQuery = preparedFor((db) =>
  db.select({
    username: users.username,
    roles: sql<string[]>`coalesce((
      select array_agg(${roles.roleName} order by ${roles.roleName})
      from ${userRoles} join ${roles} on ${roles.id} = ${userRoles.roleId}
      where ${userRoles.userId} = ${users.id}), '{}')`,
    permissions: sql<string[]>`coalesce((
      select array_agg(distinct ${rolePermissions.permission})
      from ${userRoles} join ${rolePermissions} on ${rolePermissions.roleId} = ${userRoles.roleId}
      where ${userRoles.userId} = ${users.id}), '{}')`,
  })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(
      eq(sessions.id, sql.placeholder("sessionId")),
      eq(sessions.userId, sql.placeholder("userId")),
      isNull(sessions.revokedAt),
      gt(sessions.expiresAt, sql.placeholder("now")),
      eq(users.accountStatus, "active"),
    ))
    .prepare("load_principal")
);

/**
 * Loads the caller behind an access token in one query: the session must still be live and the
 * account active, so logout, reset and suspension take effect on the very next request.
 */
export async function loadPrincipal(
  db: Database,
  userId: number,
  sessionId: string,
  now: Date,
): Promise<Principal | null> {
  // Placeholders reach the driver as they are (no column encoding): the instant goes as ISO text.
  const [row] = await principalQuery(db).execute({ sessionId, userId, now: now.toISOString() });
  if (!row) return null;
  // `admin` holds every permission at run time, whatever its rows say (README, "Access control").
  const permissions = row.roles.includes("admin") ? ALL_PERMISSIONS : row.permissions.filter(isPermission);
  return { userId, sessionId, username: row.username, roles: row.roles, permissions: new Set(permissions) };
}

function minDate(a: Date, b: Date): Date {
  return a < b ? a : b;
}
