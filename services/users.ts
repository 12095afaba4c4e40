import { eq, or, sql } from "drizzle-orm";
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

export async function profileOf(db: Database, userId: number) {
  const [patient] = await db.select().from(patientProfiles).where(eq(patientProfiles.userId, userId));
  if (patient) return { kind: "patient" as const, ...patientView(patient) };
  const [doctor] = await db.select().from(doctorProfiles).where(eq(doctorProfiles.userId, userId));
  if (doctor) return { kind: "doctor" as const, ...doctorView(doctor) };
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

export function patientView(p: typeof patientProfiles.$inferSelect) {
  return {
    user: p.userId,
    first_name: p.firstName,
    last_name: p.lastName,
    date_of_birth: p.dateOfBirth,
    phone: p.phone,
    address: p.address,
    emergency_contact: p.emergencyContact,
    medical_history: p.medicalHistory,
  };
}

export function doctorView(d: typeof doctorProfiles.$inferSelect) {
  return {
    user: d.userId,
    first_name: d.firstName,
    last_name: d.lastName,
    specialization: d.specialization,
    bio: d.bio,
    working_hours: d.workingHours,
    time_zone: d.timeZone,
  };
}
