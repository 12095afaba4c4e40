import { and, eq, isNull, type SQL } from "drizzle-orm";
import { isUnderCare } from "./care.ts";
import type { Database } from "./client.ts";
import type { PolicyOf } from "./policies.ts";
import { labFiles, labResults } from "./schema.ts";
import { type InScope, inScopeRow, restrict, type Scope } from "./scope.ts";

/** `labresults:care`: own results once final or corrected (a preliminary one reads as not found), or under care. */
type LabScope = Scope<PolicyOf<"lab_results">>;

/** A lab result with its file's metadata (never the bytes). */
export interface LabResultRow {
  result: typeof labResults.$inferSelect;
  file: FileMeta | null;
}
export interface FileMeta {
  name: string;
  contentType: string;
  size: number;
  sha256: string;
}
export interface NewFile extends FileMeta {
  content: Uint8Array;
}
export type LabResultValues = Pick<
  typeof labResults.$inferInsert,
  "testType" | "resultValue" | "unit" | "referenceRange" | "resultDate" | "comments" | "status"
>;

export const LAB_RESULT_ORDERINGS = {
  id: { column: labResults.id, value: (r: LabResultRow) => r.result.id },
  result_date: { column: labResults.resultDate, value: (r: LabResultRow) => r.result.resultDate },
  created_at: { column: labResults.createdAt, value: (r: LabResultRow) => r.result.createdAt },
};
export const LAB_RESULT_ID = { column: labResults.id, value: (r: LabResultRow) => r.result.id };

const fileColumns = {
  name: labFiles.name,
  contentType: labFiles.contentType,
  size: labFiles.size,
  sha256: labFiles.sha256,
};

function selectWithFile(db: Database) {
  return db.select({ result: labResults, file: fileColumns }).from(labResults)
    .leftJoin(labFiles, eq(labFiles.id, labResults.fileId));
}

export interface LabResultFilters {
  patient?: number;
  physician?: number;
  status?: string;
  testType?: string;
  includeSuperseded?: boolean;
}

/** Lab results in the caller's scope; earlier versions replaced by a correction only on request. */
export function listLabResults(
  db: Database,
  scope: LabScope,
  query: LabResultFilters & { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<LabResultRow[]> {
  return selectWithFile(db)
    .where(and(
      restrict(scope),
      query.includeSuperseded ? undefined : isNull(labResults.supersededById),
      query.patient === undefined ? undefined : eq(labResults.patientId, query.patient),
      query.physician === undefined ? undefined : eq(labResults.physicianId, query.physician),
      query.status === undefined ? undefined : eq(labResults.status, query.status),
      query.testType === undefined ? undefined : eq(labResults.testType, query.testType),
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

/** One result if it is in scope (superseded versions included); `lock` for read-modify-write. */
export async function findLabResult(
  db: Database,
  scope: LabScope,
  id: number,
  options: { lock?: boolean } = {},
): Promise<InScope<LabResultRow> | undefined> {
  const query = selectWithFile(db).where(and(eq(labResults.id, id), restrict(scope)));
  const [row] = options.lock ? await query.for("update", { of: labResults }) : await query;
  return inScopeRow(row);
}

/** The stored file of a result in scope, bytes included; undefined when out of scope or none. */
export async function findLabFile(
  db: Database,
  scope: LabScope,
  resultId: number,
): Promise<(NewFile & { patientId: number }) | undefined> {
  const [row] = await db.select({ ...fileColumns, content: labFiles.content, patientId: labResults.patientId })
    .from(labResults)
    .innerJoin(labFiles, eq(labFiles.id, labResults.fileId))
    .where(and(eq(labResults.id, resultId), restrict(scope)));
  return row;
}

/**
 * Creates a result by `physicianId` for a patient under their care, with its file if any;
 * undefined (nothing written) when the patient is not under their care.
 */
export async function createLabResult(
  db: Database,
  physicianId: number,
  patientId: number,
  values: LabResultValues,
  file: NewFile | undefined,
  now: Date,
): Promise<LabResultRow | undefined> {
  if (!(await isUnderCare(db, physicianId, patientId))) return undefined;
  const fileId = file ? await storeFile(db, file, now) : null;
  const [result] = await db.insert(labResults)
    .values({ ...values, patientId, physicianId, fileId, createdAt: now, updatedAt: now })
    .returning();
  return { result, file: file ? metaOf(file) : null };
}

/** Changes a result read (and locked) through the caller's scope. */
export async function updateLabResult(
  db: Database,
  current: InScope<LabResultRow>,
  changes: Partial<LabResultValues>,
  now: Date,
): Promise<LabResultRow> {
  await db.update(labResults).set({ ...changes, updatedAt: now }).where(eq(labResults.id, current.result.id));
  const [row] = await selectWithFile(db).where(eq(labResults.id, current.result.id));
  return row;
}

/**
 * Records a correction of `earlier` (held locked by the caller): a new `corrected` row for the
 * same patient, physician and test, with the earlier values and file where no new ones are given,
 * and the earlier row pointing at it. The earlier version stays readable by id.
 */
export async function correctLabResult(
  db: Database,
  earlier: InScope<LabResultRow>,
  values: Partial<Omit<LabResultValues, "testType" | "status">>,
  file: NewFile | undefined,
  now: Date,
): Promise<LabResultRow> {
  const fileId = file ? await storeFile(db, file, now) : earlier.result.fileId;
  const { resultValue, unit, referenceRange, resultDate, comments } = earlier.result;
  const [result] = await db.insert(labResults).values({
    resultValue,
    unit,
    referenceRange,
    resultDate,
    comments,
    ...values,
    patientId: earlier.result.patientId,
    physicianId: earlier.result.physicianId,
    testType: earlier.result.testType,
    status: "corrected",
    fileId,
    createdAt: now,
    updatedAt: now,
  }).returning();
  await db.update(labResults).set({ supersededById: result.id, updatedAt: now })
    .where(and(eq(labResults.id, earlier.result.id), isNull(labResults.supersededById)));
  return { result, file: file ? metaOf(file) : earlier.file };
}

async function storeFile(db: Database, file: NewFile, now: Date): Promise<number> {
  const [row] = await db.insert(labFiles).values({ ...file, createdAt: now }).returning({ id: labFiles.id });
  return row.id;
}

function metaOf(file: NewFile): FileMeta {
  return { name: file.name, contentType: file.contentType, size: file.size, sha256: file.sha256 };
}
