import { and, eq, ilike, or, type SQL } from "drizzle-orm";
import type { Database } from "./client.ts";
import { type Listed, listedRows } from "./listed_rows.ts";
import type { PolicyOf } from "./policies.ts";
import { holdsRole } from "./roles.ts";
import { patientProfiles } from "./schema.ts";
import { type InScope, inScopeRow, restrict, type Scope } from "./scope.ts";

export type PatientRow = typeof patientProfiles.$inferSelect;
/** A profile as the list reads it (instants as ISO text). */
export type PatientListRow = Listed<PatientRow>;
export type PatientValues = Partial<Omit<typeof patientProfiles.$inferInsert, "userId" | "createdAt" | "updatedAt">>;
type PatientScope = Scope<PolicyOf<"patient_profiles">>;

export const PATIENT_ORDERINGS = {
  id: { column: patientProfiles.userId, value: (r: PatientListRow) => r.userId },
  last_name: { column: patientProfiles.lastName, value: (r: PatientListRow) => r.lastName },
  first_name: { column: patientProfiles.firstName, value: (r: PatientListRow) => r.firstName },
  created_at: { column: patientProfiles.createdAt, value: (r: PatientListRow) => new Date(r.createdAt) },
};
export const PATIENT_ID = { column: patientProfiles.userId, value: (r: PatientListRow) => r.userId };

/** Patient profiles in the caller's scope, one query whatever the page size. */
export function listPatients(
  db: Database,
  scope: PatientScope,
  query: { search?: string; where?: SQL; orderBy: SQL[]; limit: number },
): Promise<PatientListRow[]> {
  const term = query.search ? `%${escapeLike(query.search)}%` : undefined;
  const search = term ? or(ilike(patientProfiles.lastName, term), ilike(patientProfiles.firstName, term)) : undefined;
  const select = db.select().from(patientProfiles)
    .where(and(restrict(scope), search, query.where))
    .orderBy(...query.orderBy)
    .limit(query.limit);
  return listedRows(db, select, patientProfiles);
}

/** One profile if it is in scope; a row outside the scope is indistinguishable from none. */
export async function findPatient(
  db: Database,
  scope: PatientScope,
  id: number,
  options: { lock?: boolean } = {},
): Promise<InScope<PatientRow> | undefined> {
  const query = db.select().from(patientProfiles).where(and(eq(patientProfiles.userId, id), restrict(scope)));
  const [row] = options.lock ? await query.for("update") : await query;
  return inScopeRow(row);
}

export async function updatePatient(db: Database, row: InScope<PatientRow>, values: PatientValues, now: Date) {
  const [updated] = await db.update(patientProfiles).set({ ...values, updatedAt: now })
    .where(eq(patientProfiles.userId, row.userId)).returning();
  return updated;
}

export async function deletePatient(db: Database, row: InScope<PatientRow>): Promise<void> {
  await db.delete(patientProfiles).where(eq(patientProfiles.userId, row.userId));
}

/** Creates the profile of a user who holds the patient role; undefined when they do not. */
export async function insertPatient(db: Database, userId: number, values: PatientValues, now: Date) {
  if (!(await holdsRole(db, userId, "patient"))) return undefined;
  const [row] = await db.insert(patientProfiles).values({ ...values, userId, createdAt: now, updatedAt: now })
    .returning();
  return row;
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}
