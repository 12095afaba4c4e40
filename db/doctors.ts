import { and, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import { escapeLike } from "./patients.ts";
import type { PolicyOf } from "./policies.ts";
import { holdsRole } from "./roles.ts";
import { doctorProfiles } from "./schema.ts";
import { type InScope, inScopeRow, restrict, type Scope } from "./scope.ts";

export type DoctorRow = typeof doctorProfiles.$inferSelect;
export type DoctorValues = Partial<Omit<typeof doctorProfiles.$inferInsert, "userId" | "createdAt" | "updatedAt">>;
type DoctorScope = Scope<PolicyOf<"doctor_profiles">>;

export const DOCTOR_ORDERINGS = {
  id: { column: doctorProfiles.userId, value: (r: DoctorRow) => r.userId },
  last_name: { column: doctorProfiles.lastName, value: (r: DoctorRow) => r.lastName },
  specialization: { column: doctorProfiles.specialization, value: (r: DoctorRow) => r.specialization },
};
export const DOCTOR_ID = { column: doctorProfiles.userId, value: (r: DoctorRow) => r.userId };

/** The doctor directory (names, specialization, hours: no health data), one query whatever the page size. */
export function listDoctors(
  db: Database,
  scope: DoctorScope,
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
    .where(and(restrict(scope), specialization, search, query.where))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

export async function findDoctor(
  db: Database,
  scope: DoctorScope,
  id: number,
  options: { lock?: boolean } = {},
): Promise<InScope<DoctorRow> | undefined> {
  const query = db.select().from(doctorProfiles).where(and(eq(doctorProfiles.userId, id), restrict(scope)));
  const [row] = options.lock ? await query.for("update") : await query;
  return inScopeRow(row);
}

export async function updateDoctor(db: Database, row: InScope<DoctorRow>, values: DoctorValues, now: Date) {
  const [updated] = await db.update(doctorProfiles).set({ ...values, updatedAt: now })
    .where(eq(doctorProfiles.userId, row.userId)).returning();
  return updated;
}

export async function deleteDoctor(db: Database, row: InScope<DoctorRow>): Promise<void> {
  await db.delete(doctorProfiles).where(eq(doctorProfiles.userId, row.userId));
}

/** Creates the profile of a user who holds the doctor role; undefined when they do not. */
export async function insertDoctor(db: Database, userId: number, values: DoctorValues, now: Date) {
  if (!(await holdsRole(db, userId, "doctor"))) return undefined;
  const [row] = await db.insert(doctorProfiles).values({ ...values, userId, createdAt: now, updatedAt: now })
    .returning();
  return row;
}
