/** The audit trail: who may do what (one screen) and the handlers. */
import { contextOf } from "../../middleware/service_context.ts";
import * as trail from "../../services/audit_logs.ts";
import { page, pageOf, pageRequest } from "../_list.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems, ProblemSchema } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { AuditLog, AuditLogCreate, ChainReport, ListQuery, VerifyQuery } from "./schemas.ts";

const TABLE = "audit_logs";
const read = { kind: "permission", permission: "auditlogs:read", policy: "all" } as const;
const tags = ["auditlogs"];

const verify = declareRoute({
  method: "get",
  path: "/auditlogs/verify",
  operationId: "auditlogs_verify",
  tags,
  summary: "Recompute the audit trail's HMAC chain in pages; names the first row that does not verify",
  description: "Rows not sealed yet (the sealer seals within a second) are counted apart, not as a break. " +
    "`checkpoint` is the signed head of the verified chain; give a checkpoint kept earlier as `?checkpoint=` " +
    "to learn whether rows were cut off the end or rewritten since.",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { query: VerifyQuery },
  responses: { 200: jsonResponse("The verification report", ChainReport), ...problems(400, 401, 403) },
});

const list = declareRoute({
  method: "get",
  path: "/auditlogs",
  operationId: "auditlogs_list",
  tags,
  summary: "The audit trail, newest first; reading it is itself recorded",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of audit events", pageOf(AuditLog)), ...problems(400, 401, 403) },
});

const get = declareRoute({
  method: "get",
  path: "/auditlogs/{id}",
  operationId: "auditlogs_read",
  tags,
  summary: "One audit event",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The event", AuditLog), ...problems(401, 403, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/auditlogs",
  operationId: "auditlogs_create",
  tags,
  summary: "Append an event in your own words; the server sets `user` (the caller), origin, time and outcome",
  description: "`action` is any lowercase word that is not one of the system's actions (those are recorded only " +
    "by the system); the event is flagged `appended`. `details` is an object or text, at most 10 KB; " +
    "`details.method` and `details.route` are set by the server.",
  access: { kind: "permission", permission: "auditlogs:write", policy: "all" },
  // The appended row is this request's own record: it names the caller, origin and request id.
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(AuditLogCreate),
  responses: { 201: jsonResponse("The appended event", AuditLog), ...problems(400, 401, 403, 413, 415, 422) },
});

const appendOnly = {
  405: {
    description: "The audit trail is append-only",
    content: { "application/problem+json": { schema: ProblemSchema } },
  },
  ...problems(401),
};
const refusedRoutes = (["put", "patch", "delete"] as const).map((method) =>
  declareRoute({
    method,
    path: "/auditlogs/{id}",
    operationId: { put: "auditlogs_update", patch: "auditlogs_partial_update", delete: "auditlogs_delete" }[method],
    tags,
    summary: "Never allowed: the audit trail is append-only (405 for everyone; the attempt is recorded)",
    access: { kind: "signed-in" },
    audit: { action: method === "delete" ? "delete" : "update", table: TABLE },
    request: { params: IdParam },
    responses: appendOnly,
  })
);

export function auditLogRoutes() {
  const app = newRouter();
  // Before /auditlogs/{id}, which would otherwise take "verify" for an id (and answer 404).
  app.openapi(verify, async (c) => {
    const report = await trail.verifyTrail(contextOf(c), c.req.valid("query").checkpoint);
    return c.json({
      ok: report.ok,
      rows: report.rows,
      first_bad_row: report.firstBadRow,
      sealed_rows: report.sealed,
      legacy_rows: report.legacyRows,
      unsealed: {
        rows: report.unsealed.count,
        oldest_id: report.unsealed.oldestId,
        oldest_at: report.unsealed.oldestAt,
      },
      checkpoint: report.checkpoint,
      against_checkpoint: report.against,
    }, 200);
  });
  app.openapi(list, async (c) => {
    const { page_size, cursor, ordering, from, to, target_table, target_id, ...rest } = c.req.valid("query");
    const filters = {
      ...rest,
      targetTable: target_table,
      targetId: target_id,
      from: from === undefined ? undefined : new Date(from),
      to: to === undefined ? undefined : new Date(to),
    };
    const asked = Object.fromEntries(
      Object.entries(c.req.valid("query")).filter(([k, v]) => v !== undefined && k !== "cursor"),
    );
    const slice = await trail.listEvents(contextOf(c), filters, pageRequest({ page_size, cursor, ordering }), asked);
    return c.json(page(c, slice, auditLogView), 200);
  });
  app.openapi(
    get,
    async (c) => c.json(auditLogView(await trail.readEvent(contextOf(c), c.req.valid("param").id)), 200),
  );
  app.openapi(create, async (c) => {
    const { target_table, target_id, ...body } = c.req.valid("json");
    const row = await trail.appendEvent(contextOf(c, { respond: auditLogView }), {
      ...body,
      targetTable: target_table,
      targetId: target_id,
    });
    return c.json(auditLogView(row), 201);
  });
  for (const route of refusedRoutes) app.openapi(route, (c) => trail.refuseChange(contextOf(c)));
  return app;
}

export function auditLogView(r: trail.AuditLogRow) {
  return {
    id: r.id,
    user: r.userId,
    role: r.role,
    action: r.action,
    target_table: r.targetTable,
    target_id: r.targetId,
    patient: r.patientId,
    patient_ids: r.patientIds,
    ip_address: r.ipAddress,
    user_agent: r.userAgent,
    request_id: r.requestId,
    client_request_id: r.clientRequestId,
    outcome: r.outcome as "success" | "denied" | "error",
    event_timestamp: r.eventTimestamp.toISOString(),
    details: r.details as Record<string, unknown>,
    appended: r.appended,
    chain_seq: r.chainSeq,
    row_hash: r.rowHash,
  };
}
