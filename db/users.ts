import { and, eq, getTableColumns, ilike, isNull, ne, or, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Database } from "./client.ts";
import { taken } from "./errors.ts";
import { ALL_PERMISSIONS } from "./permissions.ts";
import type { PolicyOf } from "./policies.ts";
import { doctorProfiles, patientProfiles, rolePermissions, roles, sessions, userRoles, users } from "./schema.ts";
import { type InScope, inScopeRow, restrict, type Scope } from "./scope.ts";

export type UserRow = typeof users.$inferSelect;
/** A user with the names of their roles (sorted), as the API shows them. */
export type UserWithRoles = UserRow & { roles: string[] };
export type UserChanges = Partial<Pick<UserRow, "username" | "email" | "phone" | "accountStatus" | "passwordHash">>;
type UserScope = Scope<PolicyOf<"users">>;

/**
 * `created_at` sorts to the millisecond: a page cursor carries a JS Date (milliseconds) while
 * Postgres keeps microseconds, so comparing the raw column with a cursor repeats or skips rows.
 */
const createdAtMs = sql`date_trunc('milliseconds', ${users.createdAt})` as unknown as AnyPgColumn;

export const USER_ORDERINGS = {
  id: { column: users.id, value: (r: UserWithRoles) => r.id },
  username: { column: users.username, value: (r: UserWithRoles) => r.username },
  created_at: { column: createdAtMs, value: (r: UserWithRoles) => r.createdAt },
};
export const USER_ID = { column: users.id, value: (r: UserWithRoles) => r.id };

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
  scope: UserScope,
  query: { accountStatus?: string; role?: string; search?: string; where?: SQL; orderBy: SQL[]; limit: number },
): Promise<UserWithRoles[]> {
  const pattern = query.search === undefined ? undefined : `%${query.search.replace(/[\\%_]/g, "\\$&")}%`;
  const holdsRole = query.role === undefined ? undefined : sql`exists (
    select 1 from ${userRoles} ur join ${roles} r on r.id = ur.role_id
    where ur.user_id = ${users}.id and r.role_name = ${query.role})`;
  return db.select(withRoles).from(users)
    .where(and(
      restrict(scope),
      query.accountStatus === undefined ? undefined : eq(users.accountStatus, query.accountStatus),
      holdsRole,
      pattern === undefined ? undefined : or(ilike(users.username, pattern), ilike(users.email, pattern)),
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

/** One user if in scope (another user's account reads exactly like a missing one); `lock` for a change. */
export async function findUser(
  db: Database,
  scope: UserScope,
  id: number,
  options: { lock?: boolean } = {},
): Promise<InScope<UserWithRoles> | undefined> {
  const query = db.select(withRoles).from(users).where(and(eq(users.id, id), restrict(scope)));
  const [row] = options.lock ? await query.for("update", { of: users }) : await query;
  return inScopeRow(row);
}

/**
 * Finds an account by username or e-mail, case-insensitively (users may sign in with either). A
 * login with an `@` is an address and only ever matches an e-mail (usernames cannot hold one), so
 * nobody can take over e-mail sign-in by registering someone's address as a username.
 */
export async function findUserByLogin(db: Database, login: string): Promise<UserRow | undefined> {
  const lowered = login.toLowerCase();
  const column = lowered.includes("@") ? users.email : users.username;
  const [user] = await db.select().from(users).where(sql`lower(${column}) = ${lowered}`);
  return user;
}

export async function findUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
  return user;
}

/** Refuses (409, as the unique indexes would) a username or e-mail some account already has. */
export async function refuseTakenAccount(db: Database, username: string, email: string): Promise<void> {
  const [row] = await db.select({
    username: sql<boolean>`bool_or(lower(${users.username}) = ${username.toLowerCase()})`,
    email: sql<boolean>`bool_or(lower(${users.email}) = ${email.toLowerCase()})`,
  }).from(users).where(
    sql`lower(${users.username}) = ${username.toLowerCase()} or lower(${users.email}) = ${email.toLowerCase()}`,
  );
  if (row?.username) throw taken("username");
  if (row?.email) throw taken("email");
}

/** The signed-in caller's own account (for `GET /me/`). */
export async function ownAccount(db: Database, id: number): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user;
}

export interface NewAccount {
  username: string;
  email: string;
  passwordHash: string;
  phone?: string | null;
  accountStatus?: string;
  roleNames: string[];
  patientProfile?: { firstName?: string; lastName?: string; dateOfBirth?: string | null; phone?: string | null };
}

/** Creates an account with roles (and a patient profile when given), in the caller's transaction. */
export async function insertAccount(db: Database, input: NewAccount): Promise<UserWithRoles> {
  const [user] = await db.insert(users).values({
    username: input.username,
    email: input.email.toLowerCase(),
    passwordHash: input.passwordHash,
    phone: input.phone ?? null,
    accountStatus: input.accountStatus ?? "active",
  }).returning();
  for (const roleName of input.roleNames) {
    const [role] = await db.select({ id: roles.id }).from(roles).where(eq(roles.roleName, roleName));
    if (!role) throw new Error(`Role ${roleName} does not exist; run the migrations first`);
    await db.insert(userRoles).values({ userId: user.id, roleId: role.id });
  }
  if (input.patientProfile) {
    await db.insert(patientProfiles).values({
      userId: user.id,
      firstName: input.patientProfile.firstName ?? "",
      lastName: input.patientProfile.lastName ?? "",
      dateOfBirth: input.patientProfile.dateOfBirth ?? null,
      phone: input.patientProfile.phone ?? input.phone ?? null,
    });
  }
  return { ...user, roles: [...input.roleNames].sort() };
}

/** Creates an account in a transaction of its own (tasks, fixtures and benchmarks; not audited). */
export function createAccount(db: Database, input: NewAccount): Promise<UserWithRoles> {
  return db.transaction((tx) => insertAccount(tx as unknown as Database, input));
}

/** Changes an account read (and locked) through the caller's scope. */
export async function updateUser(
  db: Database,
  current: InScope<UserRow>,
  changes: UserChanges,
  now: Date,
): Promise<UserWithRoles> {
  const values = { ...changes, ...(changes.email ? { email: changes.email.toLowerCase() } : {}), updatedAt: now };
  await db.update(users).set(values).where(eq(users.id, current.id));
  const [row] = await db.select(withRoles).from(users).where(eq(users.id, current.id));
  return row;
}

/**
 * Stores a new hash of the same password, unless the password changed since `from` was read: a
 * change or reset that lands in between is never overwritten. True when the row was updated.
 */
export async function replacePasswordHash(db: Database, userId: number, from: string, to: string): Promise<boolean> {
  const updated = await db.update(users).set({ passwordHash: to })
    .where(and(eq(users.id, userId), eq(users.passwordHash, from)))
    .returning({ id: users.id });
  return updated.length === 1;
}

/** Role names and permission codes of a user, in one query. */
export async function rolesAndPermissions(
  db: Database,
  userId: number,
): Promise<{ roles: string[]; permissions: string[] }> {
  const rows = await db.select({ role: roles.roleName, permission: rolePermissions.permission })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .leftJoin(rolePermissions, eq(rolePermissions.roleId, roles.id))
    .where(eq(userRoles.userId, userId));
  const roleNames = [...new Set(rows.map((r) => r.role))].sort();
  // `admin` holds every permission at run time, whatever its rows say.
  const permissions = roleNames.includes("admin")
    ? [...ALL_PERMISSIONS]
    : [...new Set(rows.flatMap((r) => r.permission ? [r.permission] : []))];
  return { roles: roleNames, permissions: permissions.sort() };
}

/** The user's patient or doctor profile row, if they have one. */
export async function profileOf(db: Database, userId: number) {
  const [patient] = await db.select().from(patientProfiles).where(eq(patientProfiles.userId, userId));
  if (patient) return { kind: "patient" as const, row: patient };
  const [doctor] = await db.select().from(doctorProfiles).where(eq(doctorProfiles.userId, userId));
  if (doctor) return { kind: "doctor" as const, row: doctor };
  return null;
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
