import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv, Principal } from "../app_env.ts";
import {
  changePrescription,
  createPrescription,
  deletePrescription,
  findPrescription,
  HISTORY_ORDERINGS,
  listPrescriptionHistory,
  listPrescriptions,
  PRESCRIPTION_ORDERINGS,
  type PrescriptionChange,
  type PrescriptionChanges,
  type PrescriptionHistoryRow,
  type PrescriptionRow,
} from "../db/prescriptions.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { type FieldError, notFound, ProblemError } from "../middleware/problem.ts";
import { audited } from "../services/audited.ts";
import { keyset, orderingQuery, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { publicUrl } from "../config.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { IdParam, idText, ownerField, pageOf } from "./_schemas.ts";

const STATUSES = ["active", "completed", "cancelled"] as const;

const Prescription = z.object({
  id: z.number().int(),
  patient: z.number().int(),
  doctor: z.number().int(),
  medication: z.string(),
  dosage: z.string(),
  frequency: z.string(),
  instructions: z.string(),
  refill_requested: z.boolean(),
  request_date: z.string().nullable(),
  approved_date: z.string().nullable(),
  denial_reason: z.string().nullable(),
  status: z.enum(STATUSES),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Prescription");

const HistoryEntry = z.object({
  id: z.number().int(),
  prescription: z.number().int(),
  changed_by: z.number().int().nullable(),
  change: z.enum(["created", "updated", "refill_requested", "refill_approved", "refill_denied"]),
  snapshot: Prescription,
  changed_at: z.string(),
}).openapi("PrescriptionHistoryEntry");

const PrescriptionCreate = z.strictObject({
  patient: ownerField,
  doctor: ownerField.optional(),
  medication: z.string().min(1).max(200),
  dosage: z.string().min(1).max(100),
  frequency: z.string().min(1).max(100),
  instructions: z.string().max(5000).optional(),
}).openapi("PrescriptionCreate");

const PrescriptionPatch = z.strictObject({
  refill_requested: z.literal(true),
  approve_refill: z.literal(true),
  deny_refill: z.literal(true),
  denial_reason: z.string().min(1).max(5000),
  dosage: z.string().min(1).max(100),
  frequency: z.string().min(1).max(100),
  instructions: z.string().max(5000),
  status: z.enum(STATUSES),
}).partial().openapi("PrescriptionPatch");
type Patch = z.infer<typeof PrescriptionPatch>;

const id = idText.optional();
const ORDERINGS = Object.keys(PRESCRIPTION_ORDERINGS) as (keyof typeof PRESCRIPTION_ORDERINGS)[];
const ListQuery = z.object({
  ...pageQuery,
  ordering: orderingQuery(ORDERINGS, "-created_at"),
  patient: id.openapi({ description: "Only this patient's prescriptions" }),
  doctor: id.openapi({ description: "Only those written by this doctor" }),
  status: z.enum(STATUSES).optional(),
});

const read = {
  kind: "permission",
  permission: "prescriptions:read",
  any: "prescriptions:read:any",
  scope: "patient",
} as const;
const TABLE = "prescriptions";

const list = declareRoute({
  method: "get",
  path: "/prescriptions",
  operationId: "prescriptions_list",
  tags: ["prescriptions"],
  summary: "Prescriptions: a patient sees their own, a doctor those of patients under their care",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of prescriptions", pageOf(Prescription)), ...problems(400, 401, 403) },
});

const get = declareRoute({
  method: "get",
  path: "/prescriptions/{id}",
  operationId: "prescriptions_read",
  tags: ["prescriptions"],
  summary: "One prescription",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The prescription", Prescription), ...problems(401, 403, 404) },
});

const history = declareRoute({
  method: "get",
  path: "/prescriptions/{id}/history",
  operationId: "prescriptions_history",
  tags: ["prescriptions"],
  summary: "Every change to a prescription, oldest first, each with the prescription as it was after it",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: { 200: jsonResponse("A page of history entries", pageOf(HistoryEntry)), ...problems(400, 401, 403, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/prescriptions",
  operationId: "prescriptions_create",
  tags: ["prescriptions"],
  summary: "Write a prescription for a patient under the caller's care (`doctor` is the caller; status starts active)",
  access: { kind: "permission", permission: "prescriptions:write", scope: "patient" },
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(PrescriptionCreate),
  responses: { 201: jsonResponse("The new prescription", Prescription), ...problems(400, 401, 403, 413, 415, 422) },
});

const patch = declareRoute({
  method: "patch",
  path: "/prescriptions/{id}",
  operationId: "prescriptions_partial_update",
  tags: ["prescriptions"],
  summary: "Request, approve or deny a refill, or edit a prescription. " +
    'The patient (`prescriptions:refill`) sends exactly `{"refill_requested": true}`; any other field is 422. ' +
    'The prescribing doctor (`prescriptions:write`) sends one of `{"approve_refill": true}`, ' +
    '`{"deny_refill": true, "denial_reason": "…"}` (409 when no refill is pending) or edits of ' +
    "`dosage`, `frequency`, `instructions`, `status`. Anyone else who can read the prescription gets 403. " +
    "Every change is recorded in the prescription's history",
  access: {
    kind: "permission",
    permission: ["prescriptions:refill", "prescriptions:write"],
    any: "prescriptions:read:any",
    scope: "patient",
  },
  audit: { action: "update", table: TABLE },
  request: { params: IdParam, ...jsonBody(PrescriptionPatch) },
  responses: {
    200: jsonResponse("The prescription", Prescription),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

const remove = declareRoute({
  method: "delete",
  path: "/prescriptions/{id}",
  operationId: "prescriptions_delete",
  tags: ["prescriptions"],
  summary: "Delete a prescription and its history (administrators)",
  // The catalogue has no prescription delete permission yet; only administrators hold this one.
  access: { kind: "permission", permission: "prescriptions:write:any", scope: "all" },
  audit: { action: "delete", table: TABLE },
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404) },
});

export function prescriptionRoutes() {
  const app = newRouter();

  app.openapi(list, async (c) => {
    const { ordering, page_size, cursor, ...filters } = c.req.valid("query");
    const page = keyset({
      ordering,
      columns: PRESCRIPTION_ORDERINGS,
      id: PRESCRIPTION_ORDERINGS.id,
      pageSize: page_size,
      cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const field = ordering.replace(/^-/, "") as keyof typeof PRESCRIPTION_ORDERINGS;
    const body = await audited(c, async (tx) => {
      const rows = await listPrescriptions(tx, c.get("scope"), { ...filters, ...page });
      const result = page.page(rows, (r) => ({ value: sortValue(r, field), id: r.id }), prescriptionView);
      return { result, rowIds: result.results.map((p) => p.id), patientIds: result.results.map((p) => p.patient) };
    });
    return c.json(body, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const row = await audited(c, async (tx) => {
      const found = await findPrescription(tx, c.get("scope"), id);
      if (!found) throw notFound();
      return { result: found, rowIds: [id], patientIds: [found.patientId] };
    });
    return c.json(prescriptionView(row), 200);
  });

  app.openapi(history, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const page = keyset({
      ordering: "id",
      columns: HISTORY_ORDERINGS,
      id: HISTORY_ORDERINGS.id,
      pageSize: q.page_size,
      cursor: q.cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const body = await audited(c, async (tx) => {
      const found = await findPrescription(tx, c.get("scope"), id);
      if (!found) throw notFound();
      const rows = await listPrescriptionHistory(tx, id, page);
      const result = page.page(rows, (r) => ({ value: r.id, id: r.id }), historyView);
      return { result, rowIds: [id], patientIds: [found.patientId] };
    });
    return c.json(body, 200);
  });

  app.openapi(create, async (c) => {
    const { patient, doctor, ...fields } = c.req.valid("json");
    const caller = principalOf(c).userId;
    if (doctor !== undefined && doctor !== caller) {
      throw invalid([{ pointer: "/doctor", detail: "Must be your own user id" }]);
    }
    const row = await audited(c, async (tx) => {
      const created = await createPrescription(tx, caller, { patientId: patient, ...fields }, now(c), prescriptionView);
      if (!created) throw invalid([{ pointer: "/patient", detail: "Not a patient under your care" }]);
      return { result: prescriptionView(created), rowIds: [created.id], patientIds: [patient] };
    });
    return c.json(row, 201);
  });

  app.openapi(patch, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const principal = principalOf(c);
    const row = await audited(c, async (tx) => {
      const found = await findPrescription(tx, c.get("scope"), id, { lock: true });
      if (!found) throw notFound();
      const { changes, change } = planChange(found, principal, body, now(c));
      const updated = await changePrescription(tx, id, changes, principal.userId, change, now(c), prescriptionView);
      return { result: updated, rowIds: [id], patientIds: [found.patientId] };
    }, { details: { fields: Object.keys(body) } });
    return c.json(prescriptionView(row), 200);
  });

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    await audited(c, async (tx) => {
      const deleted = await deletePrescription(tx, c.get("scope"), id);
      if (!deleted) throw notFound();
      return { result: null, rowIds: [id], patientIds: [deleted.patientId] };
    });
    return c.body(null, 204);
  });

  return app;
}

/**
 * What a PATCH may do, by who sends it: the patient only requests a refill; the prescribing
 * doctor decides on a pending refill or edits the prescription; nobody else changes it.
 */
function planChange(
  row: PrescriptionRow,
  principal: Principal,
  body: Patch,
  at: Date,
): { changes: PrescriptionChanges; change: PrescriptionChange } {
  const fields = Object.keys(body) as (keyof Patch)[];
  if (fields.length === 0) throw invalid([{ pointer: "", detail: "Nothing to change" }]);
  const refuse = (allowed: (keyof Patch)[], detail: string) => {
    const extra = fields.filter((f) => !allowed.includes(f));
    if (extra.length) throw invalid(extra.map((f) => ({ pointer: `/${f}`, detail })));
  };
  if (row.patientId === principal.userId && principal.permissions.has("prescriptions:refill")) {
    refuse(["refill_requested"], "A patient may only request a refill");
    if (row.status !== "active") throw conflict("Only an active prescription can be refilled");
    if (row.refillRequested) throw conflict("A refill request is already pending");
    return { changes: { refillRequested: true, requestDate: at }, change: "refill_requested" };
  }
  if (row.doctorId !== principal.userId || !principal.permissions.has("prescriptions:write")) {
    throw new ProblemError(403, "forbidden", "Only the patient or the prescribing doctor may change a prescription");
  }
  if (body.approve_refill) {
    refuse(["approve_refill"], "Approve a refill on its own");
    if (!row.refillRequested) throw conflict("No refill request is pending");
    return { changes: { refillRequested: false, approvedDate: at, denialReason: null }, change: "refill_approved" };
  }
  if (body.deny_refill) {
    refuse(["deny_refill", "denial_reason"], "Deny a refill on its own");
    if (!body.denial_reason) throw invalid([{ pointer: "/denial_reason", detail: "Required when denying a refill" }]);
    if (!row.refillRequested) throw conflict("No refill request is pending");
    return { changes: { refillRequested: false, denialReason: body.denial_reason }, change: "refill_denied" };
  }
  refuse(["dosage", "frequency", "instructions", "status"], "Not a field the prescribing doctor edits");
  const { dosage, frequency, instructions, status } = body;
  return { changes: { dosage, frequency, instructions, status }, change: "updated" };
}

function invalid(errors: FieldError[]): ProblemError {
  return new ProblemError(422, "validation", "The request body is invalid", { errors });
}

function conflict(detail: string): ProblemError {
  return new ProblemError(409, "conflict", detail);
}

function now(c: Context<AppEnv>): Date {
  return c.get("deps").clock();
}

function sortValue(row: PrescriptionRow, field: keyof typeof PRESCRIPTION_ORDERINGS): unknown {
  return { id: row.id, created_at: row.createdAt, updated_at: row.updatedAt }[field];
}

export function prescriptionView(p: PrescriptionRow) {
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

function historyView(h: PrescriptionHistoryRow) {
  return {
    id: h.id,
    prescription: h.prescriptionId,
    changed_by: h.changedBy,
    change: h.change as PrescriptionChange,
    snapshot: h.snapshot as ReturnType<typeof prescriptionView>,
    changed_at: h.changedAt.toISOString(),
  };
}
