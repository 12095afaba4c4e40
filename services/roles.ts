/**
 * Roles and role assignments: changes to who may do what, each in one unit of work recorded as
 * `permission_change`. Delegation has a ceiling: nobody grants a permission they do not hold
 * (in a role's permission set, or by assigning a role), only holders of `admin` manage the
 * `admin` role, and `admin` keeps every permission. A change that would leave no active account
 * able to assign roles is refused, since nobody could undo it through the API.
 */
import type { Database } from "../db/client.ts";
import * as repo from "../db/roles.ts";
import { Conflict, type FieldIssue, Forbidden, Invalid, NotFound } from "../errors.ts";
import { actorOf, type ServiceContext } from "./context.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";
import { ALL_PERMISSIONS, type Permission } from "./permissions.ts";

const ADMIN = "admin";

/** Refuses (403) granting what the caller does not hold themselves (ASVS 4.1.3, least privilege). */
function withinCeiling(ctx: ServiceContext, codes: readonly string[]): void {
  const held = actorOf(ctx).permissions as ReadonlySet<string>;
  const above = [...new Set(codes)].filter((code) => !held.has(code)).sort();
  if (above.length > 0) {
    throw new Forbidden(`You cannot grant permissions you do not hold: ${above.join(", ")}`, "permission-ceiling");
  }
}

/** Only holders of `admin` assign, remove or change the `admin` role. */
function mayManage(ctx: ServiceContext, roleName: string | null): void {
  if (roleName === ADMIN && !actorOf(ctx).roles.includes(ADMIN)) {
    throw new Forbidden("Only holders of the admin role manage it", "admin-role");
  }
}

export type { RoleWithPermissions, UserRoleRow } from "../db/roles.ts";
type RoleWithPermissions = repo.RoleWithPermissions;
type UserRoleRow = repo.UserRoleRow;

/** Refuses a change that would leave no active account able to assign roles. */
export async function keepSomeoneWhoCanAssignRoles(tx: Database): Promise<void> {
  if (!(await repo.someoneCanAssignRoles(tx))) {
    throw new Conflict("conflict", "This change would leave no active account able to assign roles");
  }
}

export function listRoles(ctx: ServiceContext, page: PageRequest): Promise<Slice<RoleWithPermissions>> {
  const pager = keyset(page, repo.ROLE_ORDERINGS, repo.ROLE_ID, ctx.deps.tokens.keys.cursorKey);
  return repo.listRoles(ctx.deps.db, pager).then((rows) => pager.slice(rows));
}

export async function readRole(ctx: ServiceContext, id: number): Promise<RoleWithPermissions> {
  const role = await repo.findRole(ctx.deps.db, id);
  if (!role) throw new NotFound();
  return role;
}

export interface RoleInput {
  role_name?: string;
  description?: string;
  permissions?: Permission[];
}

export function createRole(
  ctx: ServiceContext,
  input: Required<Pick<RoleInput, "role_name" | "permissions">> & RoleInput,
) {
  return ctx.uow.write(async (tx) => {
    const codes = [...new Set(input.permissions)].sort();
    withinCeiling(ctx, codes);
    const created = await repo.insertRole(
      tx,
      { roleName: input.role_name, description: input.description ?? "" },
      codes,
    );
    return { result: created, rowIds: [created.id], details: { change: "created", ...summary(created) } };
  });
}

/** Renames (not a built-in role), describes, or replaces the permission set; `admin` keeps every permission. */
export function changeRole(ctx: ServiceContext, id: number, input: RoleInput): Promise<RoleWithPermissions> {
  return ctx.uow.write(async (tx) => {
    const before = await repo.lockRole(tx, id);
    if (!before) throw new NotFound();
    mayManage(ctx, before.roleName);
    if (before.builtin && input.role_name !== undefined && input.role_name !== before.roleName) {
      const detail = `The built-in role ${before.roleName} keeps its name`;
      throw new Invalid([{ pointer: "/role_name", detail }], "Built-in roles cannot be renamed");
    }
    const changes = {
      ...(input.role_name !== undefined ? { roleName: input.role_name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
    };
    const codes = input.permissions && [...new Set(input.permissions)].sort();
    if (codes && before.roleName === ADMIN && ALL_PERMISSIONS.some((p) => !codes.includes(p))) {
      throw new Conflict("admin-role", "The admin role keeps every permission", {
        errors: [{ pointer: "/permissions", detail: "Must be every permission of the catalogue" }],
      });
    }
    if (codes) withinCeiling(ctx, codes.filter((p) => !before.permissions.includes(p)));
    const after = await repo.updateRole(tx, id, changes, codes);
    const added = after.permissions.filter((p) => !before.permissions.includes(p));
    const removed = before.permissions.filter((p) => !after.permissions.includes(p));
    if (removed.length > 0) await keepSomeoneWhoCanAssignRoles(tx);
    const details = {
      change: "updated",
      role_name: after.roleName,
      ...(after.roleName !== before.roleName ? { renamed_from: before.roleName } : {}),
      ...(after.description !== before.description ? { description: "changed" } : {}),
      added,
      removed,
    };
    return { result: after, rowIds: [id], details };
  });
}

/** Deletes a custom role nobody holds. */
export function deleteRole(ctx: ServiceContext, id: number): Promise<void> {
  return ctx.uow.write(async (tx) => {
    const role = await repo.lockRole(tx, id);
    if (!role) throw new NotFound();
    if (role.builtin) throw new Conflict("builtin-role", `The built-in role ${role.roleName} cannot be deleted`);
    const holders = await repo.assignmentCount(tx, id);
    if (holders > 0) {
      const detail = `The role is still assigned to ${holders} user(s); remove those assignments first`;
      throw new Conflict("role-in-use", detail);
    }
    await repo.deleteRole(tx, id);
    return { result: undefined, rowIds: [id], details: { change: "deleted", ...summary(role) } };
  });
}

/** Who holds which role is account data: reading it is recorded. */
export function listAssignments(ctx: ServiceContext, filters: { user?: number; role?: number }, page: PageRequest) {
  const pager = keyset(page, repo.USER_ROLE_ORDERINGS, repo.USER_ROLE_ID, ctx.deps.tokens.keys.cursorKey);
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await repo.listUserRoles(db, { ...filters, ...pager }));
    return { result: slice, rowIds: slice.rows.map((r) => r.id) };
  });
}

export function readAssignment(ctx: ServiceContext, id: number): Promise<UserRoleRow> {
  return ctx.uow.read(async (db) => {
    const row = await repo.findUserRole(db, id);
    if (!row) throw new NotFound();
    return { result: row, rowIds: [id] };
  });
}

export function assignRole(ctx: ServiceContext, input: { user: number; role: number }): Promise<UserRoleRow> {
  return ctx.uow.write(async (tx) => {
    const roleName = await existingReferences(tx, { userId: input.user, roleId: input.role });
    await mayGrant(ctx, tx, input.role);
    const created = await repo.insertUserRole(tx, input.user, input.role, ctx.now);
    const details = { change: "assigned", user: input.user, role: input.role, role_name: roleName };
    return { result: created, rowIds: [created.id], details };
  });
}

/** Points an assignment at another user or role (it counts as assigned anew). */
export function reassignRole(ctx: ServiceContext, id: number, input: { user?: number; role?: number }) {
  return ctx.uow.write(async (tx) => {
    const before = await repo.lockUserRole(tx, id);
    if (!before) throw new NotFound();
    await existingReferences(tx, { userId: input.user, roleId: input.role });
    const changes = { userId: input.user ?? before.userId, roleId: input.role ?? before.roleId };
    const same = changes.userId === before.userId && changes.roleId === before.roleId;
    // Moving an assignment takes a role from someone and gives one to someone: both are managed.
    if (!same) {
      mayManage(ctx, (await repo.findRole(tx, before.roleId))?.roleName ?? null);
      await mayGrant(ctx, tx, changes.roleId);
    }
    const after = same ? before : await repo.updateUserRole(tx, id, changes, ctx.now);
    await keepSomeoneWhoCanAssignRoles(tx);
    const details = {
      change: "reassigned",
      from: { user: before.userId, role: before.roleId },
      to: { user: after.userId, role: after.roleId },
    };
    return { result: after, rowIds: [id], details };
  });
}

export function removeAssignment(ctx: ServiceContext, id: number): Promise<void> {
  return ctx.uow.write(async (tx) => {
    const row = await repo.lockUserRole(tx, id);
    if (!row) throw new NotFound();
    mayManage(ctx, (await repo.findRole(tx, row.roleId))?.roleName ?? null);
    await repo.deleteUserRole(tx, id);
    await keepSomeoneWhoCanAssignRoles(tx);
    return { result: undefined, rowIds: [id], details: { change: "removed", user: row.userId, role: row.roleId } };
  });
}

/** Giving someone a role grants its permissions: within the caller's own, and `admin` only by an admin. */
async function mayGrant(ctx: ServiceContext, tx: Database, roleId: number): Promise<void> {
  const role = await repo.findRole(tx, roleId);
  if (!role) return;
  mayManage(ctx, role.roleName);
  withinCeiling(ctx, role.permissions);
}

/** 422 with a pointer per unknown user or role; returns the role's name. */
async function existingReferences(tx: Database, refs: { userId?: number; roleId?: number }): Promise<string | null> {
  const missing = await repo.missingReferences(tx, refs);
  const errors: FieldIssue[] = [];
  if (missing.user) errors.push({ pointer: "/user", detail: "No user has this id" });
  if (missing.role) errors.push({ pointer: "/role", detail: "No role has this id" });
  if (errors.length > 0) throw new Invalid(errors, "The user or role does not exist", "invalid-reference");
  return missing.roleName;
}

function summary(role: RoleWithPermissions) {
  return { role_name: role.roleName, permissions: role.permissions };
}
