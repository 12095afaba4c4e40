import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import { publicUrl } from "../config.ts";
import {
  AUDIT_ACTIONS,
  AUDIT_LOG_ID,
  AUDIT_LOG_ORDERINGS,
  AUDIT_OUTCOMES,
  type AuditLogListRow,
  type AuditLogRow,
  findAuditLog,
  isPatient,
  listAuditLogs,
} from "../db/audit_logs.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { notFound, ProblemError } from "../middleware/problem.ts";
import { originOf } from "../middleware/request_context.ts";
import { recordAudit } from "../services/audit.ts";
import { audited } from "../services/audited.ts";
import { verifyAuditChain } from "../services/audit_verify.ts";
import { keyset, orderingQuery, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems, ProblemSchema } from "./_route.ts";
import { IdParam, idText, instant, pageOf } from "./_schemas.ts";

const AuditLog = z.object({
  id: z.number().int(),
  user: z.number().int().nullable(),
  role: z.string().nullable(),
  action: z.enum(AUDIT_ACTIONS),
  target_table: z.string().nullable(),
  target_id: z.string().nullable(),
  patient: z.number().int().nullable(),
  patient_ids: z.array(z.number().int()),
  ip_address: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  event_timestamp: z.string(),
  details: z.record(z.string(), z.unknown()),
  chain_seq: z.number().int().nullable(),
  row_hash: z.string().nullable(),
}).openapi("AuditLog");

const DETAILS_MAX_BYTES = 10_240;
const DETAILS_MAX_DEPTH = 8;
/** Keys the server writes into `details` itself (as on every event it records). */
const SERVER_DETAILS = ["method", "route"];
const tableName = z.string().min(1).max(64).regex(/^[a-z_][a-z0-9_]*$/, "Lower-case letters, digits and _ only");
// deno-lint-ignore no-control-regex -- control characters are exactly what is refused
const targetId = z.string().min(1).max(200).regex(/^[^\u0000-\u001f]+$/, "No control characters")
  .refine((s) => s.isWellFormed(), "No unpaired surrogates");
const userId = idText;

const Details = z.record(z.string(), z.unknown()).superRefine((details, ctx) => {
  const text = JSON.stringify(details);
  if (new TextEncoder().encode(text).length > DETAILS_MAX_BYTES) {
    ctx.addIssue({ code: "custom", message: `At most ${DETAILS_MAX_BYTES} bytes as JSON` });
  } else if (depth(details) > DETAILS_MAX_DEPTH) {
    ctx.addIssue({ code: "custom", message: `At most ${DETAILS_MAX_DEPTH} levels of nesting` });
  } else if (/(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i.test(text)) {
    // JSON stores neither NUL nor a lone surrogate (well-formed pairs are not escaped by stringify).
    ctx.addIssue({ code: "custom", message: "Contains a NUL character or an unpaired surrogate" });
  }
  for (const key of SERVER_DETAILS.filter((k) => Object.hasOwn(details, k))) {
    ctx.addIssue({ code: "custom", path: [key], message: "Set by the server" });
  }
});

const AuditLogCreate = z.strictObject({
  action: z.enum(AUDIT_ACTIONS),
  target_table: tableName.optional(),
  target_id: z.union([targetId, z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)]).optional(),
  patient: z.number().int().positive().max(2147483647).optional(),
  details: Details.optional(),
}).openapi("AuditLogCreate");

const ListQuery = z.object({
  ...pageQuery,
  ordering: orderingQuery(Object.keys(AUDIT_LOG_ORDERINGS), "-event_timestamp"),
  user: userId.optional().openapi({ description: "Events by this user" }),
  patient: userId.optional().openapi({ description: "Events that concern this patient" }),
  target_table: tableName.optional(),
  target_id: targetId.optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  from: instant.optional().openapi({ description: "Events at or after (ISO 8601)" }),
  to: instant.optional().openapi({ description: "Events before (ISO 8601)" }),
});

const TABLE = "audit_logs";
const read = { kind: "permission", permission: "auditlogs:read", scope: "all" } as const;
const tags = ["auditlogs"];

const verify = declareRoute({
  method: "get",
  path: "/auditlogs/verify",
  operationId: "auditlogs_verify",
  tags,
  summary: "Recompute the audit trail's hash chain; names the first row that does not verify",
  access: read,
  audit: { action: "read", table: TABLE },
  responses: {
    200: jsonResponse(
      "The verification report",
      z.object({
        ok: z.boolean(),
        rows: z.number().int(),
        first_bad_row: z.object({ id: z.number().int(), chain_seq: z.number().int().nullable() }).nullable(),
      }).openapi("AuditChainReport"),
    ),
    ...problems(401, 403),
  },
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
  summary: "Append an event; the server sets `user` (the caller), origin, time and outcome",
  description: "`details` holds at most 10 KB of JSON; `details.method` and `details.route` are set by the server.",
  access: { kind: "permission", permission: "auditlogs:write", scope: "all" },
  // The appended row is this request's own record: it names the caller, origin and request id.
  audit: { action: "create", table: TABLE },
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
const refused = (method: "put" | "patch" | "delete", operationId: string) =>
  declareRoute({
    method,
    path: "/auditlogs/{id}",
    operationId,
    tags,
    summary: "Never allowed: the audit trail is append-only (405 for everyone; the attempt is recorded)",
    access: { kind: "signed-in" },
    audit: { action: method === "delete" ? "delete" : "update", table: TABLE },
    request: { params: IdParam },
    responses: appendOnly,
  });

const refusedRoutes = [
  refused("put", "auditlogs_update"),
  refused("patch", "auditlogs_partial_update"),
  refused("delete", "auditlogs_delete"),
];

export function auditLogRoutes() {
  const app = newRouter();

  // Before /auditlogs/{id}, which would otherwise take "verify" for an id (and answer 404).
  app.openapi(verify, async (c) => {
    const report = await audited(c, async (tx) => ({ result: await verifyAuditChain(tx), rowIds: [], patientIds: [] }));
    return c.json({ ok: report.ok, rows: report.rows, first_bad_row: report.firstBadRow }, 200);
  });

  app.openapi(list, async (c) => {
    const { page_size, cursor, ordering, from, to, target_table, target_id, ...filters } = c.req.valid("query");
    const page = keyset({
      ordering,
      columns: AUDIT_LOG_ORDERINGS,
      id: AUDIT_LOG_ID,
      pageSize: page_size,
      cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const byId = ordering.replace(/^-/, "") === "id";
    const query = {
      ...filters,
      targetTable: target_table,
      targetId: target_id,
      from: from === undefined ? undefined : new Date(from),
      to: to === undefined ? undefined : new Date(to),
    };
    const body = await audited(c, async (tx) => {
      const rows = await listAuditLogs(tx, c.get("scope"), query, page);
      const result = page.page(rows, (r) => ({ value: byId ? r.id : r.eventAt, id: r.id }), auditLogView);
      // Searching one patient's history is a look at that patient: it shows in their access log.
      return { result, rowIds: result.results.map((r) => r.id), patientIds: [filters.patient] };
    }, { details: { filters: withoutUndefined(c.req.valid("query")) } });
    return c.json(body, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const row = await audited(c, async (tx) => {
      const found = await findAuditLog(tx, c.get("scope"), id);
      if (!found) throw notFound();
      return { result: found, rowIds: [id], patientIds: [] };
    });
    return c.json(auditLogView(row), 200);
  });

  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    const { db, clock } = c.get("deps");
    if (body.patient !== undefined && !(await isPatient(db, body.patient))) {
      throw new ProblemError(422, "validation", "The request body is invalid", {
        errors: [{ pointer: "/patient", detail: "No patient with this id" }],
      });
    }
    const principal = principalOf(c);
    const row = await recordAudit(db, originOf(c), {
      userId: principal.userId,
      role: principal.roles.join(","),
      action: body.action,
      outcome: "success",
      targetTable: body.target_table ?? null,
      targetId: body.target_id ?? null,
      patientId: body.patient ?? null,
      patientIds: body.patient === undefined ? [] : [body.patient],
      details: { ...body.details, method: c.req.method, route: c.req.routePath },
    }, clock());
    return c.json(auditLogView(row), 201);
  });

  // Recorded as a denied attempt, then answered 405 whoever asks.
  const appendOnlyHandler = (c: Context<AppEnv>) =>
    audited<never>(c, () => {
      throw new ProblemError(405, "method-not-allowed", "The audit trail is append-only", {
        headers: { Allow: "GET" },
      });
    });
  for (const route of refusedRoutes) app.openapi(route, appendOnlyHandler);

  return app;
}

export function auditLogView(r: AuditLogRow | AuditLogListRow) {
  return {
    id: r.id,
    user: r.userId,
    role: r.role,
    action: r.action as typeof AUDIT_ACTIONS[number],
    target_table: r.targetTable,
    target_id: r.targetId,
    patient: r.patientId,
    patient_ids: r.patientIds,
    ip_address: r.ipAddress,
    user_agent: r.userAgent,
    request_id: r.requestId,
    outcome: r.outcome as typeof AUDIT_OUTCOMES[number],
    event_timestamp: r.eventTimestamp.toISOString(),
    details: r.details as Record<string, unknown>,
    chain_seq: r.chainSeq,
    row_hash: r.rowHash,
  };
}

function depth(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  let deepest = 0;
  for (const v of Object.values(value)) {
    deepest = Math.max(deepest, depth(v));
    if (deepest > DETAILS_MAX_DEPTH) break;
  }
  return deepest + 1;
}

function withoutUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== "cursor"));
}
