import { and, asc, eq, type SQL } from "drizzle-orm";
import type { Database } from "./client.ts";
import { isUnderCare } from "./care.ts";
import type { PolicyOf } from "./policies.ts";
import { prescriptionHistory, prescriptions } from "./schema.ts";
import { type InScope, inScopeRow, restrict, type Scope } from "./scope.ts";

export type PrescriptionRow = typeof prescriptions.$inferSelect;
export type PrescriptionHistoryRow = typeof prescriptionHistory.$inferSelect;
export type PrescriptionChanges = Partial<
  Pick<
    typeof prescriptions.$inferInsert,
    | "dosage"
    | "frequency"
    | "instructions"
    | "status"
    | "refillRequested"
    | "requestDate"
    | "approvedDate"
    | "denialReason"
  >
>;
/** What a history row says happened. */
export type PrescriptionChange =
  | "created"
  | "updated"
  | "refill_requested"
  | "refill_approved"
  | "refill_denied";

type PrescriptionScope = Scope<PolicyOf<"prescriptions">>;

export const PRESCRIPTION_ORDERINGS = {
  id: { column: prescriptions.id, value: (r: PrescriptionRow) => r.id },
  created_at: { column: prescriptions.createdAt, value: (r: PrescriptionRow) => r.createdAt },
  updated_at: { column: prescriptions.updatedAt, value: (r: PrescriptionRow) => r.updatedAt },
};
export const PRESCRIPTION_ID = { column: prescriptions.id, value: (r: PrescriptionRow) => r.id };

export interface PrescriptionFilters {
  patient?: number;
  doctor?: number;
  status?: string;
}

/** Prescriptions in the caller's scope (their own, or of patients under their care). */
export function listPrescriptions(
  db: Database,
  scope: PrescriptionScope,
  query: PrescriptionFilters & { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<PrescriptionRow[]> {
  return db.select().from(prescriptions)
    .where(and(
      restrict(scope),
      query.patient === undefined ? undefined : eq(prescriptions.patientId, query.patient),
      query.doctor === undefined ? undefined : eq(prescriptions.doctorId, query.doctor),
      query.status === undefined ? undefined : eq(prescriptions.status, query.status),
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

/**
 * One prescription if it is in scope; a row outside the scope is indistinguishable from none.
 * `lock` takes a row lock for a read-modify-write in the same transaction.
 */
export async function findPrescription(
  db: Database,
  scope: PrescriptionScope,
  id: number,
  options: { lock?: boolean } = {},
): Promise<InScope<PrescriptionRow> | undefined> {
  const query = db.select().from(prescriptions).where(and(eq(prescriptions.id, id), restrict(scope)));
  const [row] = options.lock ? await query.for("update") : await query;
  return inScopeRow(row);
}

/**
 * Creates a prescription written by `doctorId`, and its first history row, when the patient is
 * under that doctor's care; undefined (nothing written) otherwise.
 */
export async function createPrescription(
  db: Database,
  doctorId: number,
  values: { patientId: number; medication: string; dosage: string; frequency: string; instructions?: string },
  now: Date,
  snapshot: (row: PrescriptionRow) => unknown,
): Promise<PrescriptionRow | undefined> {
  if (!(await isUnderCare(db, doctorId, values.patientId))) return undefined;
  const [row] = await db.insert(prescriptions)
    .values({ ...values, doctorId, createdAt: now, updatedAt: now })
    .returning();
  await recordHistory(db, row, doctorId, "created", now, snapshot);
  return row;
}

/** Applies a change to a row read (and locked) through the caller's scope, and records it in the history. */
export async function changePrescription(
  db: Database,
  current: InScope<PrescriptionRow>,
  changes: PrescriptionChanges,
  by: number,
  change: PrescriptionChange,
  now: Date,
  snapshot: (row: PrescriptionRow) => unknown,
): Promise<PrescriptionRow> {
  const [row] = await db.update(prescriptions).set({ ...changes, updatedAt: now })
    .where(eq(prescriptions.id, current.id))
    .returning();
  await recordHistory(db, row, by, change, now, snapshot);
  return row;
}

async function recordHistory(
  db: Database,
  row: PrescriptionRow,
  by: number,
  change: PrescriptionChange,
  now: Date,
  snapshot: (row: PrescriptionRow) => unknown,
) {
  await db.insert(prescriptionHistory).values({
    prescriptionId: row.id,
    changedBy: by,
    change,
    snapshot: snapshot(row),
    changedAt: now,
  });
}

/** The history of one prescription read through the caller's scope, oldest first. */
export function listPrescriptionHistory(
  db: Database,
  prescription: InScope<PrescriptionRow>,
  query: { where?: SQL; orderBy?: SQL[]; limit: number },
): Promise<PrescriptionHistoryRow[]> {
  return db.select().from(prescriptionHistory)
    .where(and(eq(prescriptionHistory.prescriptionId, prescription.id), query.where))
    .orderBy(...(query.orderBy ?? [asc(prescriptionHistory.id)]))
    .limit(query.limit);
}

export const HISTORY_ORDERINGS = { id: { column: prescriptionHistory.id, value: (r: PrescriptionHistoryRow) => r.id } };
export const HISTORY_ID = HISTORY_ORDERINGS.id;

export async function deletePrescription(db: Database, row: InScope<PrescriptionRow>): Promise<void> {
  await db.delete(prescriptions).where(eq(prescriptions.id, row.id));
}
