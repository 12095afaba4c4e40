import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import {
  correctLabResult,
  createLabResult,
  findLabFile,
  findLabResult,
  LAB_RESULT_ORDERINGS,
  type LabResultRow,
  listLabResults,
  type NewFile,
  updateLabResult,
} from "../db/lab_results.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { type FieldError, notFound, ProblemError } from "../middleware/problem.ts";
import { audited } from "../services/audited.ts";
import { acceptLabFile, attachmentDisposition } from "../services/file_types.ts";
import { keyset, orderingQuery, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { publicUrl } from "../config.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { IdParam, idText, instant, ownerField, pageOf } from "./_schemas.ts";

const STATUSES = ["preliminary", "final", "corrected"] as const;

const LabFile = z.object({
  name: z.string(),
  content_type: z.enum(["application/pdf", "image/png", "image/jpeg", "text/plain"]),
  size: z.number().int(),
  sha256: z.string().openapi({ description: "Hex SHA-256 of the file's bytes" }),
}).openapi("LabFile");

const LabResult = z.object({
  id: z.number().int(),
  patient: z.number().int(),
  physician: z.number().int(),
  test_type: z.string(),
  result_value: z.string(),
  unit: z.string(),
  reference_range: z.string(),
  result_date: z.string(),
  comments: z.string(),
  status: z.enum(STATUSES),
  file: LabFile.nullable(),
  superseded_by: z.number().int().nullable().openapi({ description: "The correction that replaced this version" }),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("LabResult");

const values = {
  result_value: z.string().max(5000),
  unit: z.string().max(50),
  reference_range: z.string().max(100),
  result_date: instant,
  comments: z.string().max(5000),
};
const formId = idText;
const filePart = z.custom<File>((v) => v instanceof File, { message: "Must be a file part" })
  .openapi({ type: "string", format: "binary", description: "PDF, PNG, JPEG or UTF-8 text, at most 10 MiB" });
const createFields = {
  test_type: z.string().min(1).max(100),
  result_value: values.result_value,
  unit: values.unit.optional(),
  reference_range: values.reference_range.optional(),
  result_date: values.result_date.optional(),
  comments: values.comments.optional(),
  status: z.enum(["preliminary", "final"]),
};
const LabResultCreate = z.strictObject({ patient: ownerField, physician: ownerField.optional(), ...createFields })
  .openapi("LabResultCreate");
const LabResultCreateForm = z.strictObject({
  patient: formId,
  physician: formId.optional(),
  ...createFields,
  file: filePart.optional(),
}).openapi("LabResultCreateForm");
const LabResultPatch = z.strictObject({ ...createFields, ...values }).partial().openapi("LabResultPatch");
const LabResultCorrection = z.strictObject(values).partial().openapi("LabResultCorrection");
const LabResultCorrectionForm = z.strictObject({ ...values, file: filePart }).partial()
  .openapi("LabResultCorrectionForm");

const ORDERINGS = Object.keys(LAB_RESULT_ORDERINGS) as (keyof typeof LAB_RESULT_ORDERINGS)[];
const ListQuery = z.object({
  ...pageQuery,
  ordering: orderingQuery(ORDERINGS, "-result_date"),
  patient: formId.optional().openapi({ description: "Only this patient's results" }),
  physician: formId.optional().openapi({ description: "Only those of this physician" }),
  status: z.enum(STATUSES).optional(),
  test_type: z.string().max(100).optional(),
  include_superseded: z.enum(["true", "false"]).default("false").openapi({
    description: "Also list earlier versions that a correction replaced",
  }),
});

const read = {
  kind: "permission",
  permission: "labresults:read",
  any: "labresults:read:any",
  scope: "patient",
} as const;
const write = { kind: "permission", permission: "labresults:write", scope: "patient" } as const;
const TABLE = "lab_results";
/** Room for a 10 MiB file plus the form fields and multipart framing; the file itself is checked too. */
const UPLOAD_LIMIT = 11 * 1024 * 1024;
const BINARY = { schema: z.string().openapi({ format: "binary" }) };
const RULES = "A patient sees their own results once `final` or `corrected` (a preliminary one is 404); " +
  "a doctor sees every result of patients under their care.";

const list = declareRoute({
  method: "get",
  path: "/labresults",
  operationId: "labresults_list",
  tags: ["labresults"],
  summary: "Lab results, latest versions only unless `include_superseded=true`",
  description: RULES,
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of lab results", pageOf(LabResult)), ...problems(400, 401, 403) },
});

const get = declareRoute({
  method: "get",
  path: "/labresults/{id}",
  operationId: "labresults_read",
  tags: ["labresults"],
  summary: "One lab result (earlier, corrected versions stay readable by id)",
  description: RULES,
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The lab result", LabResult), ...problems(401, 403, 404) },
});

const download = declareRoute({
  method: "get",
  path: "/labresults/{id}/file",
  operationId: "labresults_file",
  tags: ["labresults"],
  summary: "Download the file of a lab result, as an attachment with its stored content type",
  description: RULES,
  access: read,
  audit: { action: "download", table: TABLE },
  request: { params: IdParam },
  responses: {
    200: {
      description: "The file's bytes",
      content: { "application/pdf": BINARY, "image/png": BINARY, "image/jpeg": BINARY, "text/plain": BINARY },
    },
    ...problems(401, 403, 404),
  },
});

const uploadBody = <J extends z.ZodType, F extends z.ZodType>(json: J, form: F) => ({
  // Not `required`: the JSON and form validators then each run only for their own media type.
  body: { required: false, content: { "application/json": { schema: json }, "multipart/form-data": { schema: form } } },
});

const create = declareRoute({
  method: "post",
  path: "/labresults",
  operationId: "labresults_create",
  tags: ["labresults"],
  summary: "Record a lab result for a patient under the caller's care (`physician` is the caller)",
  description: "Send JSON, or multipart/form-data with the same fields plus an optional `file` part (PDF, PNG, " +
    "JPEG or UTF-8 text, at most 10 MiB; the type is read from the content and must match the part's declared " +
    "type, else 415). A body is required.",
  access: write,
  audit: { action: "create", table: TABLE },
  idempotent: true,
  bodyLimit: UPLOAD_LIMIT,
  request: uploadBody(LabResultCreate, LabResultCreateForm),
  responses: { 201: jsonResponse("The new lab result", LabResult), ...problems(400, 401, 403, 413, 415, 422) },
});

const patch = declareRoute({
  method: "patch",
  path: "/labresults/{id}",
  operationId: "labresults_partial_update",
  tags: ["labresults"],
  summary: "Change a preliminary result, or make it final (its physician only)",
  description: "A final or corrected result is never edited (422): post a correction instead.",
  access: write,
  audit: { action: "update", table: TABLE },
  request: { params: IdParam, ...jsonBody(LabResultPatch) },
  responses: { 200: jsonResponse("The lab result", LabResult), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

const correct = declareRoute({
  method: "post",
  path: "/labresults/{id}/corrections",
  operationId: "labresults_correct",
  tags: ["labresults"],
  summary: "Correct a final result (its physician only): a new `corrected` version replaces it",
  description: "The new version keeps the patient, physician and test type; fields left out, and the file " +
    "unless a new `file` part is sent, are copied from the earlier version, which stays readable by id with " +
    "`superseded_by` set. Only the latest version can be corrected (409). JSON or multipart/form-data.",
  access: write,
  audit: { action: "create", table: TABLE },
  idempotent: true,
  bodyLimit: UPLOAD_LIMIT,
  request: { params: IdParam, ...uploadBody(LabResultCorrection, LabResultCorrectionForm) },
  responses: { 201: jsonResponse("The correction", LabResult), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

export function labResultRoutes() {
  const app = newRouter();

  app.openapi(list, async (c) => {
    const { ordering, page_size, cursor, include_superseded, test_type, ...filters } = c.req.valid("query");
    const page = keyset({
      ordering,
      columns: LAB_RESULT_ORDERINGS,
      id: LAB_RESULT_ORDERINGS.id,
      pageSize: page_size,
      cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const field = ordering.replace(/^-/, "") as keyof typeof LAB_RESULT_ORDERINGS;
    const query = { ...filters, testType: test_type, includeSuperseded: include_superseded === "true", ...page };
    const body = await audited(c, async (tx) => {
      const rows = await listLabResults(tx, c.get("scope"), query);
      const result = page.page(rows, (r) => ({ value: sortValue(r, field), id: r.result.id }), labResultView);
      return { result, rowIds: result.results.map((r) => r.id), patientIds: result.results.map((r) => r.patient) };
    });
    return c.json(body, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const row = await audited(c, async (tx) => {
      const found = await findLabResult(tx, c.get("scope"), id);
      if (!found) throw notFound();
      return { result: found, rowIds: [id], patientIds: [found.result.patientId] };
    });
    return c.json(labResultView(row), 200);
  });

  app.openapi(download, async (c) => {
    const { id } = c.req.valid("param");
    const file = await audited(c, async (tx) => {
      const found = await findLabFile(tx, c.get("scope"), id);
      if (!found) throw notFound();
      return { result: found, rowIds: [id], patientIds: [found.patientId] };
    });
    return c.body(file.content as Uint8Array<ArrayBuffer>, 200, {
      "content-type": file.contentType === "text/plain" ? "text/plain; charset=utf-8" : file.contentType,
      "content-length": String(file.size),
      "content-disposition": attachmentDisposition(file.name),
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
      "cache-control": "private, no-store",
    });
  });

  app.openapi(create, async (c) => {
    const caller = principalOf(c).userId;
    const { fields, file } = await uploadOf<z.output<typeof LabResultCreate>>(
      c,
      () => c.req.valid("json"),
      () => c.req.valid("form"),
    );
    const { patient, physician, test_type, result_value, status, ...optional } = fields;
    if (physician !== undefined && physician !== caller) {
      throw invalid([{ pointer: "/physician", detail: "Must be your own user id" }]);
    }
    const defaults = { unit: "", referenceRange: "", comments: "", resultDate: now(c) };
    const columns = { ...defaults, ...columnsOf(optional), testType: test_type, resultValue: result_value, status };
    const row = await audited(c, async (tx) => {
      const created = await createLabResult(tx, caller, patient, columns, file, now(c));
      if (!created) throw invalid([{ pointer: "/patient", detail: "Not a patient under your care" }]);
      return { result: labResultView(created), rowIds: [created.result.id], patientIds: [patient] };
    });
    return c.json(row, 201);
  });

  app.openapi(patch, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    if (Object.keys(body).length === 0) throw invalid([{ pointer: "", detail: "Nothing to change" }]);
    const row = await audited(c, async (tx) => {
      const found = await ownResult(c, tx, id);
      if (found.result.status !== "preliminary") {
        throw new ProblemError(422, "correction-required", "A final result is changed by posting a correction", {
          errors: [{ pointer: "", detail: `Use POST /labresults/${id}/corrections/` }],
        });
      }
      const updated = await updateLabResult(tx, id, columnsOf(body), now(c));
      return { result: updated, rowIds: [id], patientIds: [found.result.patientId] };
    }, { details: { fields: Object.keys(body) } });
    return c.json(labResultView(row), 200);
  });

  app.openapi(correct, async (c) => {
    const { id } = c.req.valid("param");
    const { fields, file } = await uploadOf<z.output<typeof LabResultCorrection>>(
      c,
      () => c.req.valid("json"),
      () => c.req.valid("form"),
    );
    if (Object.keys(fields).length === 0 && !file) throw invalid([{ pointer: "", detail: "Nothing to correct" }]);
    const row = await audited(c, async (tx) => {
      const earlier = await ownResult(c, tx, id);
      if (earlier.result.status === "preliminary") {
        throw invalid([{ pointer: "", detail: "A preliminary result is changed with PATCH, not corrected" }]);
      }
      if (earlier.result.supersededById !== null) {
        const latest = earlier.result.supersededById;
        throw new ProblemError(409, "conflict", `This version was already corrected by ${latest}`);
      }
      const corrected = await correctLabResult(tx, earlier, columnsOf(fields), file, now(c));
      return {
        result: labResultView(corrected),
        rowIds: [corrected.result.id],
        patientIds: [earlier.result.patientId],
      };
    }, { details: { corrects: id } });
    return c.json(row, 201);
  });

  return app;
}

/** A result in the caller's scope (404 otherwise) that they ordered (403 otherwise), locked for the change. */
async function ownResult(c: Context<AppEnv>, tx: Parameters<typeof findLabResult>[0], id: number) {
  const found = await findLabResult(tx, c.get("scope"), id, { lock: true });
  if (!found) throw notFound();
  if (found.result.physicianId !== principalOf(c).userId) {
    throw new ProblemError(403, "forbidden", "Only the physician who recorded a result may change it");
  }
  return found;
}

/** The fields of a JSON or multipart body, and its file checked and hashed; 415 for any other body. */
async function uploadOf<T extends object>(
  c: Context<AppEnv>,
  json: () => unknown,
  form: () => unknown,
): Promise<{ fields: T; file: NewFile | undefined }> {
  // Each body was validated by the schema of its media type; the two schemas differ only by `file`.
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (/^application\/([a-z.-]+\+)?json$/.test(type)) return { fields: json() as T, file: undefined };
  if (type === "multipart/form-data") {
    const { file, ...fields } = form() as T & { file?: File };
    return { fields: fields as T, file: file ? await acceptLabFile(file) : undefined };
  }
  throw new ProblemError(415, "unsupported-media-type", "Send the body as application/json or multipart/form-data");
}

function columnsOf(body: {
  test_type?: string;
  result_value?: string;
  unit?: string;
  reference_range?: string;
  result_date?: string;
  comments?: string;
  status?: "preliminary" | "final";
}) {
  const columns = {
    testType: body.test_type,
    resultValue: body.result_value,
    unit: body.unit,
    referenceRange: body.reference_range,
    resultDate: body.result_date === undefined ? undefined : new Date(body.result_date),
    comments: body.comments,
    status: body.status,
  };
  return Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== undefined)) as Partial<typeof columns>;
}

function invalid(errors: FieldError[]): ProblemError {
  return new ProblemError(422, "validation", "The request body is invalid", { errors });
}

function now(c: Context<AppEnv>): Date {
  return c.get("deps").clock();
}

function sortValue(row: LabResultRow, field: keyof typeof LAB_RESULT_ORDERINGS): unknown {
  return { id: row.result.id, result_date: row.result.resultDate, created_at: row.result.createdAt }[field];
}

export function labResultView({ result: r, file }: LabResultRow) {
  return {
    id: r.id,
    patient: r.patientId,
    physician: r.physicianId,
    test_type: r.testType,
    result_value: r.resultValue,
    unit: r.unit,
    reference_range: r.referenceRange,
    result_date: r.resultDate.toISOString(),
    comments: r.comments,
    status: r.status as typeof STATUSES[number],
    file: file
      ? {
        name: file.name,
        content_type: file.contentType as z.infer<typeof LabFile>["content_type"],
        size: file.size,
        sha256: file.sha256,
      }
      : null,
    superseded_by: r.supersededById,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}
