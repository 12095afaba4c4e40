import { eq, or, sql } from "drizzle-orm";
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Database } from "../db/client.ts";
import {
  ACCOUNT_STATUSES,
  doctorProfiles,
  patientProfiles,
  rolePermissions,
  roles,
  userRoles,
  users,
} from "../db/schema.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { ProblemError } from "../middleware/problem.ts";
import { originOf } from "../middleware/request_context.ts";
import { KeyAlreadyUsed } from "../middleware/idempotency.ts";
import { type AuditAction, type AuditOutcome, recordAudit } from "./audit.ts";
import { claimRequestKey, storeResponse } from "./audited.ts";

export type UserRow = typeof users.$inferSelect;

export interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
  phone?: string | null;
  roleNames: string[];
  patientProfile?: { firstName?: string; lastName?: string; dateOfBirth?: string | null; phone?: string | null };
}

/** Finds an account by username or e-mail, case-insensitively (users may sign in with either). */
export async function findUserByLogin(db: Database, login: string): Promise<UserRow | undefined> {
  const lowered = login.toLowerCase();
  const [user] = await db.select().from(users)
    .where(or(sql`lower(${users.username}) = ${lowered}`, sql`lower(${users.email}) = ${lowered}`))
    .orderBy(sql`lower(${users.username}) = ${lowered} desc`)
    .limit(1);
  return user;
}

export async function findUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
  return user;
}

/** One account by id (the signed-in caller's, for `GET /me/`). */
export async function getUser(db: Database, id: number): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user;
}

/** Creates a user with roles (and a patient profile when given) in one transaction. */
export async function createUser(db: Database, input: NewUser): Promise<UserRow> {
  return await db.transaction(async (tx) => {
    const [user] = await tx.insert(users).values({
      username: input.username,
      email: input.email.toLowerCase(),
      passwordHash: input.passwordHash,
      phone: input.phone ?? null,
    }).returning();
    for (const roleName of input.roleNames) {
      const [role] = await tx.select({ id: roles.id }).from(roles).where(eq(roles.roleName, roleName));
      if (!role) throw new Error(`Role ${roleName} does not exist; run the migrations first`);
      await tx.insert(userRoles).values({ userId: user.id, roleId: role.id });
    }
    if (input.patientProfile) {
      await tx.insert(patientProfiles).values({
        userId: user.id,
        firstName: input.patientProfile.firstName ?? "",
        lastName: input.patientProfile.lastName ?? "",
        dateOfBirth: input.patientProfile.dateOfBirth ?? null,
        phone: input.patientProfile.phone ?? input.phone ?? null,
      });
    }
    return user;
  });
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
  return {
    roles: [...new Set(rows.map((r) => r.role))].sort(),
    permissions: [...new Set(rows.flatMap((r) => r.permission ? [r.permission] : []))].sort(),
  };
}

/** The user's patient or doctor profile row, if they have one. */
export async function profileOf(db: Database, userId: number) {
  const [patient] = await db.select().from(patientProfiles).where(eq(patientProfiles.userId, userId));
  if (patient) return { kind: "patient" as const, row: patient };
  const [doctor] = await db.select().from(doctorProfiles).where(eq(doctorProfiles.userId, userId));
  if (doctor) return { kind: "doctor" as const, row: doctor };
  return null;
}

/** The public shape of a user (contract field names); never the password hash. */
export function userView(user: UserRow, roleNames: string[]) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    phone: user.phone,
    account_status: user.accountStatus as typeof ACCOUNT_STATUSES[number],
    roles: roleNames,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    last_login: user.lastLogin?.toISOString() ?? null,
  };
}

/** What an audited account or permission change did, for its audit record. */
export interface ChangeRecord<T> {
  result: T;
  targetId: number | null;
  details?: Record<string, unknown>;
}

/**
 * Runs a change to accounts, roles or role assignments with its audit record in one transaction
 * (both commit or neither does). `check` runs first, outside the transaction (password checks,
 * hashing); a refusal thrown as a ProblemError (404, 409, 422, 429) by either step is recorded as
 * `denied`. The caller is the principal of the request.
 */
export async function auditedChange<T>(
  c: Context<AppEnv>,
  event: { action: AuditAction; table: string },
  steps: { check?: () => Promise<void>; change: (tx: Database) => Promise<ChangeRecord<T>> },
): Promise<T> {
  const principal = principalOf(c);
  const { db, clock } = c.get("deps");
  const record = (tx: Pick<Database, "insert">, outcome: AuditOutcome, targetId: unknown, details = {}) =>
    recordAudit(tx, originOf(c), {
      userId: principal.userId,
      role: principal.roles.join(","),
      action: event.action,
      outcome,
      targetTable: event.table,
      targetId: targetId == null ? null : String(targetId),
      details: { method: c.req.method, route: c.req.routePath, ...details },
    }, clock());
  try {
    await steps.check?.();
    return await db.transaction(async (tx) => {
      const claim = await claimRequestKey(c, tx);
      const done = await steps.change(tx);
      await record(tx, "success", done.targetId, done.details);
      // An idempotent create's result is its response body, kept with the change it answers.
      if (claim !== null) await storeResponse(tx, claim, 201, done.result);
      return done.result;
    });
  } catch (e) {
    const cause = (e as Error)?.cause;
    const problem = e instanceof ProblemError ? e : cause instanceof ProblemError ? cause : null;
    if (problem && problem.status < 500 && !(problem instanceof KeyAlreadyUsed)) {
      await record(db, "denied", c.req.param("id") ?? null, { status: problem.status, reason: problem.detail });
    }
    throw e;
  }
}
