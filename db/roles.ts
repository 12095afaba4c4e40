import { and, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import { type Database, queryRows } from "./client.ts";
import { rolePermissions, roles, userRoles, users } from "./schema.ts";

export type RoleRow = typeof roles.$inferSelect;
/** A role with its permission codes (sorted). */
export type RoleWithPermissions = RoleRow & { permissions: string[] };
export type UserRoleRow = typeof userRoles.$inferSelect;

export const ROLE_ORDERINGS = {
  id: { column: roles.id, value: (r: RoleWithPermissions) => r.id },
  role_name: { column: roles.roleName, value: (r: RoleWithPermissions) => r.roleName },
};
export const ROLE_ID = { column: roles.id, value: (r: RoleWithPermissions) => r.id };
export const USER_ROLE_ORDERINGS = {
  id: { column: userRoles.id, value: (r: UserRoleRow) => r.id },
  assigned_at: { column: userRoles.assignedAt, value: (r: UserRoleRow) => r.assignedAt },
};
export const USER_ROLE_ID = { column: userRoles.id, value: (r: UserRoleRow) => r.id };

// Explicit table names: in a one-table select drizzle leaves columns unqualified.
const permissionCodes = sql<string[]>`coalesce((
  select array_agg(rp.permission order by rp.permission)
  from ${rolePermissions} rp where rp.role_id = ${roles}.id), '{}')`;

const withPermissions = { ...getTableColumns(roles), permissions: permissionCodes };

export function listRoles(
  db: Database,
  query: { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<RoleWithPermissions[]> {
  return db.select(withPermissions).from(roles).where(query.where).orderBy(...query.orderBy).limit(query.limit);
}

export async function findRole(db: Database, id: number): Promise<RoleWithPermissions | undefined> {
  const [row] = await db.select(withPermissions).from(roles).where(eq(roles.id, id));
  return row;
}

/** Locks a role for a change in the same transaction (renames and deletes check `builtin` first). */
export async function lockRole(db: Database, id: number): Promise<RoleWithPermissions | undefined> {
  const [row] = await db.select(withPermissions).from(roles).where(eq(roles.id, id)).for("update", { of: roles });
  return row;
}

export async function insertRole(
  db: Database,
  values: { roleName: string; description: string },
  permissions: string[],
): Promise<RoleWithPermissions> {
  const [row] = await db.insert(roles).values(values).returning({ id: roles.id });
  await setPermissions(db, row.id, permissions);
  return (await findRole(db, row.id))!;
}

/** Changes a role's name or description and, when given, replaces its permission set. */
export async function updateRole(
  db: Database,
  id: number,
  changes: { roleName?: string; description?: string },
  permissions: string[] | undefined,
): Promise<RoleWithPermissions> {
  if (Object.keys(changes).length > 0) await db.update(roles).set(changes).where(eq(roles.id, id));
  if (permissions) await setPermissions(db, id, permissions);
  return (await findRole(db, id))!;
}

async function setPermissions(db: Database, roleId: number, permissions: string[]): Promise<void> {
  await db.delete(rolePermissions).where(eq(rolePermissions.roleId, roleId));
  if (permissions.length > 0) {
    await db.insert(rolePermissions).values(permissions.map((permission) => ({ roleId, permission })));
  }
}

/** How many users hold the role. */
export async function assignmentCount(db: Database, roleId: number): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(userRoles).where(eq(userRoles.roleId, roleId));
  return Number(row.n);
}

/** Deletes a role (its permissions go with it, by cascade). */
export async function deleteRole(db: Database, id: number): Promise<void> {
  await db.delete(roles).where(eq(roles.id, id));
}

/**
 * True while some active account can still assign roles (`userroles:write`). Changes that
 * would take the last one away are refused, since no one could undo them through the API.
 */
export async function someoneCanAssignRoles(db: Database): Promise<boolean> {
  const [row] = await queryRows<{ ok: boolean }>(
    db,
    sql`select exists (
      select 1 from ${users}
      join ${userRoles} on ${userRoles.userId} = ${users.id}
      join ${roles} on ${roles.id} = ${userRoles.roleId}
      where ${users.accountStatus} = 'active' and (${roles.roleName} = 'admin' or exists (
        select 1 from ${rolePermissions} where ${rolePermissions.roleId} = ${roles.id}
          and ${rolePermissions.permission} = 'userroles:write'))) as ok`,
  );
  return row.ok === true;
}

export function listUserRoles(
  db: Database,
  query: { user?: number; role?: number; where?: SQL; orderBy: SQL[]; limit: number },
): Promise<UserRoleRow[]> {
  return db.select().from(userRoles)
    .where(and(
      query.user === undefined ? undefined : eq(userRoles.userId, query.user),
      query.role === undefined ? undefined : eq(userRoles.roleId, query.role),
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

export async function findUserRole(db: Database, id: number): Promise<UserRoleRow | undefined> {
  const [row] = await db.select().from(userRoles).where(eq(userRoles.id, id));
  return row;
}

export async function lockUserRole(db: Database, id: number): Promise<UserRoleRow | undefined> {
  const [row] = await db.select().from(userRoles).where(eq(userRoles.id, id)).for("update");
  return row;
}

/** Which of a user id and a role id name no existing row. */
export async function missingReferences(
  db: Database,
  refs: { userId?: number; roleId?: number },
): Promise<{ user: boolean; role: boolean; roleName: string | null }> {
  const [user] = refs.userId === undefined
    ? [{ id: 0 }]
    : await db.select({ id: users.id }).from(users).where(eq(users.id, refs.userId));
  const [role] = refs.roleId === undefined
    ? [{ roleName: null }]
    : await db.select({ roleName: roles.roleName }).from(roles).where(eq(roles.id, refs.roleId));
  return { user: !user, role: !role, roleName: role?.roleName ?? null };
}

export async function insertUserRole(db: Database, userId: number, roleId: number, now: Date): Promise<UserRoleRow> {
  const [row] = await db.insert(userRoles).values({ userId, roleId, assignedAt: now }).returning();
  return row;
}

/** Points an assignment at another user or role; it counts as assigned anew. */
export async function updateUserRole(
  db: Database,
  id: number,
  changes: { userId?: number; roleId?: number },
  now: Date,
): Promise<UserRoleRow> {
  const [row] = await db.update(userRoles).set({ ...changes, assignedAt: now }).where(eq(userRoles.id, id))
    .returning();
  return row;
}

export async function deleteUserRole(db: Database, id: number): Promise<void> {
  await db.delete(userRoles).where(eq(userRoles.id, id));
}

/** True when the user holds the role (by name). */
export async function holdsRole(db: Database, userId: number, roleName: string): Promise<boolean> {
  const rows = await db.select({ id: userRoles.id }).from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(and(eq(userRoles.userId, userId), eq(roles.roleName, roleName)));
  return rows.length > 0;
}
