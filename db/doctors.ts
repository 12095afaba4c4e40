import { and, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import type { AppDeps, RowScope } from "../app_env.ts";
import type { Database } from "./client.ts";
import { escapeLike } from "./patients.ts";
import { selfScope } from "./scoped.ts";
import { doctorProfiles, roles, userRoles, users } from "./schema.ts";

export type DoctorRow = typeof doctorProfiles.$inferSelect;
export type DoctorChanges = Partial<Omit<typeof doctorProfiles.$inferInsert, "userId" | "createdAt" | "updatedAt">>;

export const DOCTOR_ORDERINGS = {
  id: doctorProfiles.userId,
  last_name: doctorProfiles.lastName,
  specialization: doctorProfiles.specialization,
} as const;

/**
 * The doctor directory, one query whatever the page size. It is open to every signed-in user
 * (names, specialization, hours: no health data), so no row scope applies and reads run outside
 * an audited transaction, on the app's database.
 */
export function listDoctors(
  { db }: Pick<AppDeps, "db">,
  query: { specialization?: string; search?: string; where?: SQL; orderBy: SQL[]; limit: number },
): Promise<DoctorRow[]> {
  const specialization = query.specialization
    ? sql`lower(${doctorProfiles.specialization}) = lower(${query.specialization})`
    : undefined;
  const term = query.search ? `%${escapeLike(query.search)}%` : undefined;
  const search = term
    ? or(
      ilike(doctorProfiles.lastName, term),
      ilike(doctorProfiles.firstName, term),
      ilike(sql`${doctorProfiles.firstName} || ' ' || ${doctorProfiles.lastName}`, term),
    )
    : undefined;
  return db.select().from(doctorProfiles)
    .where(and(specialization, search, query.where))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

/** One directory entry. */
export async function findDoctor({ db }: Pick<AppDeps, "db">, id: number): Promise<DoctorRow | undefined> {
  const [row] = await db.select().from(doctorProfiles).where(eq(doctorProfiles.userId, id));
  return row;
}

/** Changes a profile in the caller's scope (a doctor: their own); undefined when out of scope or missing. */
export async function updateDoctor(
  db: Database,
  scope: RowScope | undefined,
  id: number,
  changes: DoctorChanges,
  now: Date,
): Promise<DoctorRow | undefined> {
  const [row] = await db.update(doctorProfiles).set({ ...changes, updatedAt: now })
    .where(and(eq(doctorProfiles.userId, id), selfScope(scope, doctorProfiles.userId)))
    .returning();
  return row;
}

export async function deleteDoctor(db: Database, scope: RowScope | undefined, id: number): Promise<boolean> {
  const rows = await db.delete(doctorProfiles)
    .where(and(eq(doctorProfiles.userId, id), selfScope(scope, doctorProfiles.userId)))
    .returning({ id: doctorProfiles.userId });
  return rows.length > 0;
}

/**
 * Creates the profile of a user who holds the doctor role; undefined when they do not (or do not
 * exist). A second profile for the same user fails on the primary key (SQLSTATE 23505).
 */
export async function createDoctor(
  db: Database,
  userId: number,
  values: DoctorChanges,
): Promise<DoctorRow | undefined> {
  const [isDoctor] = await db.select({ id: users.id }).from(users)
    .innerJoin(userRoles, eq(userRoles.userId, users.id))
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(and(eq(users.id, userId), eq(roles.roleName, "doctor")));
  if (!isDoctor) return undefined;
  const [row] = await db.insert(doctorProfiles).values({ ...values, userId }).returning();
  return row;
}
