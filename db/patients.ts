import { and, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import type { RowScope } from "../app_env.ts";
import type { Database } from "./client.ts";
import { patientScope } from "./scoped.ts";
import { patientProfiles, roles, userRoles, users } from "./schema.ts";

export type PatientRow = typeof patientProfiles.$inferSelect;
export type PatientChanges = Partial<Omit<typeof patientProfiles.$inferInsert, "userId" | "createdAt" | "updatedAt">>;

export const PATIENT_ORDERINGS = {
  id: patientProfiles.userId,
  last_name: patientProfiles.lastName,
  first_name: patientProfiles.firstName,
  created_at: patientProfiles.createdAt,
} as const;

/** Patient profiles in the caller's scope, one query whatever the page size. */
export function listPatients(
  db: Database,
  scope: RowScope | undefined,
  query: { search?: string; where?: SQL; orderBy: SQL[]; limit: number },
): Promise<PatientRow[]> {
  const search = query.search
    ? or(
      ilike(patientProfiles.lastName, `%${escapeLike(query.search)}%`),
      ilike(patientProfiles.firstName, `%${escapeLike(query.search)}%`),
    )
    : undefined;
  return db.select().from(patientProfiles)
    .where(and(patientScope(scope, patientProfiles.userId), search, query.where))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

/** One profile if it is in scope; a row outside the scope is indistinguishable from none. */
export async function findPatient(
  db: Database,
  scope: RowScope | undefined,
  id: number,
): Promise<PatientRow | undefined> {
  const [row] = await db.select().from(patientProfiles)
    .where(and(eq(patientProfiles.userId, id), patientScope(scope, patientProfiles.userId)));
  return row;
}

export async function updatePatient(
  db: Database,
  scope: RowScope | undefined,
  id: number,
  changes: PatientChanges,
  now: Date,
): Promise<PatientRow | undefined> {
  const [row] = await db.update(patientProfiles).set({ ...changes, updatedAt: now })
    .where(and(eq(patientProfiles.userId, id), patientScope(scope, patientProfiles.userId)))
    .returning();
  return row;
}

export async function deletePatient(db: Database, scope: RowScope | undefined, id: number): Promise<boolean> {
  const rows = await db.delete(patientProfiles)
    .where(and(eq(patientProfiles.userId, id), patientScope(scope, patientProfiles.userId)))
    .returning({ id: patientProfiles.userId });
  return rows.length > 0;
}

/** Creates the profile of a user who holds the patient role; undefined when they do not. */
export async function createPatient(
  db: Database,
  userId: number,
  values: PatientChanges,
): Promise<PatientRow | undefined> {
  const [isPatient] = await db.select({ id: users.id }).from(users)
    .innerJoin(userRoles, eq(userRoles.userId, users.id))
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(and(eq(users.id, userId), eq(roles.roleName, "patient")));
  if (!isPatient) return undefined;
  const [row] = await db.insert(patientProfiles).values({ ...values, userId }).returning();
  return row;
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

export const patientExists = (id: number) =>
  sql`exists (select 1 from ${patientProfiles} where ${patientProfiles.userId} = ${id})`;
