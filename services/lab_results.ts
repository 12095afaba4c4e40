/**
 * Lab results: recorded by a doctor for a patient under their care, read through
 * `labresults:care` (a patient sees their own once released), changed only while preliminary,
 * corrected by a new version once final. The file is stored with the result.
 */
import * as repo from "../db/lab_results.ts";
import { Conflict, Forbidden, Invalid, invalid, NotFound } from "../errors.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";

export type { FileMeta, LabResultRow, LabResultValues, NewFile } from "../db/lab_results.ts";
type LabResultRow = repo.LabResultRow;

export function listLabResults(
  ctx: ServiceContext,
  filters: repo.LabResultFilters,
  page: PageRequest,
): Promise<Slice<LabResultRow>> {
  const scope = scopeOf(ctx, "lab_results");
  const pager = keyset(page, repo.LAB_RESULT_ORDERINGS, repo.LAB_RESULT_ID, ctx.deps.tokens.keys.cursorKey);
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await repo.listLabResults(db, scope, { ...filters, ...pager }));
    const rows = slice.rows.map((r) => r.result);
    return { result: slice, rowIds: rows.map((r) => r.id), patientIds: rows.map((r) => r.patientId) };
  });
}

export function readLabResult(ctx: ServiceContext, id: number): Promise<LabResultRow> {
  const scope = scopeOf(ctx, "lab_results");
  return ctx.uow.read(async (db) => {
    const found = await repo.findLabResult(db, scope, id);
    if (!found) throw new NotFound();
    return { result: found, rowIds: [id], patientIds: [found.result.patientId] };
  });
}

/** The stored file of a result in scope, bytes included. */
export function downloadLabFile(ctx: ServiceContext, id: number) {
  const scope = scopeOf(ctx, "lab_results");
  return ctx.uow.read(async (db) => {
    const file = await repo.findLabFile(db, scope, id);
    if (!file) throw new NotFound();
    return { result: file, rowIds: [id], patientIds: [file.patientId] };
  });
}

export interface NewLabResult {
  patient: number;
  physician?: number;
  values: repo.LabResultValues;
  file?: repo.NewFile;
}

/** The caller records it (`physician` is the caller) for a patient under their care. */
export function recordLabResult(ctx: ServiceContext, input: NewLabResult): Promise<LabResultRow> {
  const caller = actorOf(ctx).userId;
  return ctx.uow.write(async (tx, effects) => {
    if (input.physician !== undefined && input.physician !== caller) {
      throw invalid("/physician", "Must be your own user id");
    }
    const created = await repo.createLabResult(tx, caller, input.patient, input.values, input.file, ctx.now);
    if (!created) throw invalid("/patient", "Not a patient under your care");
    if (created.result.status === "final") await effects.emit(released(created));
    return { result: created, rowIds: [created.result.id], patientIds: [input.patient] };
  });
}

/** A preliminary result is changed (or made final) by its physician; a final one is corrected instead. */
export function changeLabResult(
  ctx: ServiceContext,
  id: number,
  changes: Partial<repo.LabResultValues>,
): Promise<LabResultRow> {
  return ctx.uow.write(async (tx, effects) => {
    if (Object.keys(changes).length === 0) throw invalid("", "Nothing to change");
    const found = await ownResult(ctx, tx, id);
    if (found.result.status !== "preliminary") {
      const use = [{ pointer: "", detail: `Use POST /labresults/${id}/corrections/` }];
      throw new Invalid(use, "A final result is changed by posting a correction", "correction-required");
    }
    const updated = await repo.updateLabResult(tx, found, changes, ctx.now);
    if (updated.result.status === "final") await effects.emit(released(updated));
    return { result: updated, rowIds: [id], patientIds: [found.result.patientId] };
  }, { details: { fields: Object.keys(changes) } });
}

/** A new `corrected` version replaces a final result (its physician only); only the latest can be corrected. */
export function correctLabResult(
  ctx: ServiceContext,
  id: number,
  changes: Partial<Omit<repo.LabResultValues, "testType" | "status">>,
  file: repo.NewFile | undefined,
): Promise<LabResultRow> {
  return ctx.uow.write(async (tx, effects) => {
    if (Object.keys(changes).length === 0 && !file) throw invalid("", "Nothing to correct");
    const earlier = await ownResult(ctx, tx, id);
    if (earlier.result.status === "preliminary") {
      throw invalid("", "A preliminary result is changed with PATCH, not corrected");
    }
    if (earlier.result.supersededById !== null) {
      throw new Conflict("conflict", `This version was already corrected by ${earlier.result.supersededById}`);
    }
    const corrected = await repo.correctLabResult(tx, earlier, changes, file, ctx.now);
    await effects.emit(released(corrected));
    return { result: corrected, rowIds: [corrected.result.id], patientIds: [earlier.result.patientId] };
  }, { details: { corrects: id } });
}

/** A result in the caller's scope (404 otherwise) that they recorded (403 otherwise), locked for the change. */
async function ownResult(ctx: ServiceContext, tx: Parameters<typeof repo.findLabResult>[0], id: number) {
  const found = await repo.findLabResult(tx, scopeOf(ctx, "lab_results"), id, { lock: true });
  if (!found) throw new NotFound();
  if (found.result.physicianId !== actorOf(ctx).userId) {
    throw new Forbidden("Only the physician who recorded a result may change it");
  }
  return found;
}

function released({ result: r }: LabResultRow) {
  const payload = { lab_result: r.id, patient: r.patientId, physician: r.physicianId, status: r.status };
  return { topic: "lab_result.released", payload };
}
