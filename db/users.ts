import { and, eq, getTableColumns, isNull, ne, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { RowScope } from "../app_env.ts";
import type { Database } from "./client.ts";
import { selfScope } from "./scoped.ts";
import { roles, sessions, userRoles, users } from "./schema.ts";

export type UserRow = typeof users.$inferSelect;
/** A user with the names of their roles (sorted), as the API shows them. */
export type UserWithRoles = UserRow & { roles: string[] };
export type UserChanges = Partial<Pick<UserRow, "username" | "email" | "phone" | "accountStatus" | "passwordHash">>;

/**
 * `created_at` sorts to the millisecond: a page cursor carries a JS Date (milliseconds) while
 * Postgres keeps microseconds, so comparing the raw column with a cursor repeats or skips rows.
 */
const createdAtMs = sql`date_trunc('milliseconds', ${users.createdAt})` as unknown as AnyPgColumn;

export const USER_ORDERINGS = {
  id: users.id,
  username: users.username,
  created_at: createdAtMs,
} as const;

// Written with explicit table names: in a one-table select drizzle leaves columns unqualified,
// which the subquery's joined tables would make ambiguous.
const roleNames = sql<string[]>`coalesce((
  select array_agg(r.role_name order by r.role_name)
  from ${userRoles} ur join ${roles} r on r.id = ur.role_id
  where ur.user_id = ${users}.id), '{}')`;

const withRoles = { ...getTableColumns(users), roles: roleNames };

/** Users in the caller's scope (every account, or only their own), one query whatever the page size. */
export function listUsers(
  db: Database,
  scope: RowScope | undefined,
  query: { accountStatus?: string; role?: string; where?: SQL; orderBy: SQL[]; limit: number },
): Promise<UserWithRoles[]> {
  const holdsRole = query.role === undefined ? undefined : sql`exists (
    select 1 from ${userRoles} ur join ${roles} r on r.id = ur.role_id
    where ur.user_id = ${users}.id and r.role_name = ${query.role})`;
  return db.select(withRoles).from(users)
    .where(and(
      selfScope(scope, users.id),
      query.accountStatus === undefined ? undefined : eq(users.accountStatus, query.accountStatus),
      holdsRole,
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

/** One user if in scope; another user's account reads exactly like a missing one. */
export async function findUser(
  db: Database,
  scope: RowScope | undefined,
  id: number,
): Promise<UserWithRoles | undefined> {
  const [row] = await db.select(withRoles).from(users).where(and(eq(users.id, id), selfScope(scope, users.id)));
  return row;
}

/** Locks and returns one user in scope, for a change made in the same transaction. */
export async function lockUser(db: Database, scope: RowScope | undefined, id: number): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(and(eq(users.id, id), selfScope(scope, users.id))).for("update");
  return row;
}

/** Creates an account without roles (roles are given through /userroles/). */
export async function insertUser(
  db: Database,
  values: { username: string; email: string; passwordHash: string; phone: string | null; accountStatus: string },
): Promise<UserWithRoles> {
  const [row] = await db.insert(users).values({ ...values, email: values.email.toLowerCase() }).returning();
  return { ...row, roles: [] };
}

export async function updateUser(
  db: Database,
  scope: RowScope | undefined,
  id: number,
  changes: UserChanges,
  now: Date,
): Promise<UserWithRoles | undefined> {
  const values = { ...changes, ...(changes.email ? { email: changes.email.toLowerCase() } : {}), updatedAt: now };
  const [row] = await db.update(users).set(values)
    .where(and(eq(users.id, id), selfScope(scope, users.id)))
    .returning({ id: users.id });
  return row ? await findUser(db, scope, id) : undefined;
}

/**
 * Ends a user's live sessions except `keep` (after a password change the device it was made
 * from stays signed in, every other one must sign in again); returns how many ended.
 */
export async function revokeSessionsExcept(
  db: Database,
  userId: number,
  keep: string | null,
  reason: string,
  now: Date,
): Promise<number> {
  const rows = await db.update(sessions).set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.userId, userId), keep ? ne(sessions.id, keep) : undefined, isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length;
}
