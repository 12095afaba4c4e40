/** Integration logs: who may do what (one screen) and the handlers. */
import { contextOf } from "../../middleware/service_context.ts";
import * as logs from "../../services/integration_logs.ts";
import { page, pageOf, pageRequest } from "../_list.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems, ProblemSchema } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { IntegrationLog, IntegrationLogCreate, ListQuery } from "./schemas.ts";

const TABLE = "integration_logs";
const read = { kind: "permission", permission: "integrationlogs:read", policy: "all" } as const;
const tags = ["integrationlogs"];

const list = declareRoute({
  method: "get",
  path: "/integrationlogs",
  operationId: "integrationlogs_list",
  tags,
  summary: "Exchanges with outside systems (providers, mail, webhooks), newest first",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of entries", pageOf(IntegrationLog)), ...problems(400, 401, 403) },
});

const get = declareRoute({
  method: "get",
  path: "/integrationlogs/{id}",
  operationId: "integrationlogs_read",
  tags,
  summary: "One entry",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The entry", IntegrationLog), ...problems(401, 403, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/integrationlogs",
  operationId: "integrationlogs_create",
  tags,
  summary: "Append an exchange the system did not see (kept with `appended_by`: the caller)",
  access: { kind: "permission", permission: "integrationlogs:write", policy: "all" },
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(IntegrationLogCreate),
  responses: { 201: jsonResponse("The entry", IntegrationLog), ...problems(400, 401, 403, 413, 415, 422) },
});

const refusedRoutes = (["put", "patch", "delete"] as const).map((method) =>
  declareRoute({
    method,
    path: "/integrationlogs/{id}",
    operationId:
      { put: "integrationlogs_update", patch: "integrationlogs_partial_update", delete: "integrationlogs_delete" }[
        method
      ],
    tags,
    summary: "Never allowed: integration logs are append-only (405 for everyone; the attempt is recorded)",
    access: { kind: "signed-in" },
    audit: { action: method === "delete" ? "delete" : "update", table: TABLE },
    request: { params: IdParam },
    responses: {
      405: { description: "Append-only", content: { "application/problem+json": { schema: ProblemSchema } } },
      ...problems(401),
    },
  })
);

export function integrationLogRoutes() {
  const app = newRouter();
  app.openapi(list, async (c) => {
    const { page_size, cursor, ordering, system_name, sync_status, from, to } = c.req.valid("query");
    const filters = {
      systemName: system_name,
      syncStatus: sync_status,
      from: from === undefined ? undefined : new Date(from),
      to: to === undefined ? undefined : new Date(to),
    };
    const slice = await logs.listEntries(contextOf(c), filters, pageRequest({ page_size, cursor, ordering }));
    return c.json(page(c, slice, integrationLogView), 200);
  });
  app.openapi(
    get,
    async (c) => c.json(integrationLogView(await logs.readEntry(contextOf(c), c.req.valid("param").id)), 200),
  );
  app.openapi(create, async (c) => {
    const { system_name, data_type, data_reference, sync_status, detail } = c.req.valid("json");
    const entry = {
      systemName: system_name,
      dataType: data_type,
      dataReference: data_reference,
      syncStatus: sync_status,
      detail,
    };
    const row = await logs.appendEntry(contextOf(c, { respond: integrationLogView }), entry);
    return c.json(integrationLogView(row), 201);
  });
  for (const route of refusedRoutes) app.openapi(route, (c) => logs.refuseChange(contextOf(c)));
  return app;
}

export function integrationLogView(r: logs.IntegrationLogRow) {
  return {
    id: r.id,
    system_name: r.systemName,
    data_type: r.dataType,
    data_reference: r.dataReference,
    sync_status: r.syncStatus as "pending" | "success" | "failed",
    detail: r.detail,
    latency_ms: r.latencyMs,
    attempt: r.attempt,
    appended_by: r.appendedBy,
    created_at: r.createdAt.toISOString(),
  };
}
