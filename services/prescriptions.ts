/**
 * Prescriptions: written by a doctor for a patient under their care, read through
 * `prescriptions:care`, refilled by the patient and decided on by the prescribing doctor; every
 * change kept in the prescription's history.
 */
import * as repo from "../db/prescriptions.ts";
import { invalid, NotFound } from "../errors.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";
import { planPrescriptionChange, type PrescriptionPatch } from "./prescription_rules.ts";

export type { PrescriptionHistoryRow, PrescriptionRow } from "../db/prescriptions.ts";
type PrescriptionRow = repo.PrescriptionRow;

const STATUSES = ["active", "completed", "cancelled"] as const;

/** The prescription as the contract shows it; also what its history keeps of each version. */
export function prescriptionRecord(p: PrescriptionRow) {
  return {
    id: p.id,
    patient: p.patientId,
    doctor: p.doctorId,
    medication: p.medication,
    dosage: p.dosage,
    frequency: p.frequency,
    instructions: p.instructions,
    refill_requested: p.refillRequested,
    request_date: p.requestDate?.toISOString() ?? null,
    approved_date: p.approvedDate?.toISOString() ?? null,
    denial_reason: p.denialReason,
    status: p.status as typeof STATUSES[number],
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export function listPrescriptions(
  ctx: ServiceContext,
  filters: repo.PrescriptionFilters,
  page: PageRequest,
): Promise<Slice<PrescriptionRow>> {
  const scope = scopeOf(ctx, "prescriptions");
  const pager = keyset(page, repo.PRESCRIPTION_ORDERINGS, repo.PRESCRIPTION_ID, ctx.deps.tokens.keys.cursorKey);
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await repo.listPrescriptions(db, scope, { ...filters, ...pager }));
    return { result: slice, rowIds: slice.rows.map((p) => p.id), patientIds: slice.rows.map((p) => p.patientId) };
  });
}

export function readPrescription(ctx: ServiceContext, id: number): Promise<PrescriptionRow> {
  const scope = scopeOf(ctx, "prescriptions");
  return ctx.uow.read(async (db) => {
    const found = await repo.findPrescription(db, scope, id);
    if (!found) throw new NotFound();
    return { result: found, rowIds: [id], patientIds: [found.patientId] };
  });
}

/** Every change to a prescription, oldest first, each with the prescription as it was after it. */
export function prescriptionHistory(ctx: ServiceContext, id: number, page: PageRequest) {
  const scope = scopeOf(ctx, "prescriptions");
  const pager = keyset(
    { ...page, ordering: "id" },
    repo.HISTORY_ORDERINGS,
    repo.HISTORY_ID,
    ctx.deps.tokens.keys.cursorKey,
  );
  return ctx.uow.read(async (db) => {
    const found = await repo.findPrescription(db, scope, id);
    if (!found) throw new NotFound();
    const slice = pager.slice(await repo.listPrescriptionHistory(db, found, pager));
    return { result: slice, rowIds: [id], patientIds: [found.patientId] };
  });
}

export interface NewPrescription {
  patient: number;
  doctor?: number;
  medication: string;
  dosage: string;
  frequency: string;
  instructions?: string;
}

/** The caller writes it (`doctor` is the caller) for a patient under their care; status starts active. */
export function writePrescription(ctx: ServiceContext, input: NewPrescription): Promise<PrescriptionRow> {
  const caller = actorOf(ctx).userId;
  return ctx.uow.write(async (tx) => {
    const { patient, doctor, ...fields } = input;
    if (doctor !== undefined && doctor !== caller) throw invalid("/doctor", "Must be your own user id");
    const created = await repo.createPrescription(
      tx,
      caller,
      { patientId: patient, ...fields },
      ctx.now,
      prescriptionRecord,
    );
    if (!created) throw invalid("/patient", "Not a patient under your care");
    return { result: created, rowIds: [created.id], patientIds: [patient] };
  });
}

/** Request, approve or deny a refill, or edit: as `planPrescriptionChange` allows the caller. */
export function changePrescription(ctx: ServiceContext, id: number, body: PrescriptionPatch): Promise<PrescriptionRow> {
  const principal = actorOf(ctx);
  const scope = scopeOf(ctx, "prescriptions");
  return ctx.uow.write(async (tx, effects) => {
    const found = await repo.findPrescription(tx, scope, id, { lock: true });
    if (!found) throw new NotFound();
    const { changes, change } = planPrescriptionChange(found, principal, body, ctx.now);
    const updated = await repo.changePrescription(
      tx,
      found,
      changes,
      principal.userId,
      change,
      ctx.now,
      prescriptionRecord,
    );
    if (change.startsWith("refill_")) {
      const payload = { prescription: id, patient: found.patientId, doctor: found.doctorId };
      await effects.emit({ topic: `prescription.${change}`, payload });
    }
    return { result: updated, rowIds: [id], patientIds: [found.patientId] };
  }, { details: { fields: Object.keys(body) } });
}

/** Administrators delete a prescription and its history. */
export function deletePrescription(ctx: ServiceContext, id: number): Promise<void> {
  const scope = scopeOf(ctx, "prescriptions");
  return ctx.uow.write(async (tx) => {
    const found = await repo.findPrescription(tx, scope, id, { lock: true });
    if (!found) throw new NotFound();
    await repo.deletePrescription(tx, found);
    return { result: undefined, rowIds: [id], patientIds: [found.patientId] };
  });
}
