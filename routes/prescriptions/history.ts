/** `GET /prescriptions/{id}/history/`: every version of a prescription, with who changed it. */
import { z } from "@hono/zod-openapi";
import { contextOf } from "../../middleware/service_context.ts";
import { prescriptionHistory, type PrescriptionHistoryRow } from "../../services/prescriptions.ts";
import type { PrescriptionChange } from "../../services/prescription_rules.ts";
import { page, pageOf, pageQuery, pageRequest } from "../_list.ts";
import { declareRoute, jsonResponse, newRouter, problems } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { HistoryEntry, type Prescription } from "./schemas.ts";

export const read = {
  kind: "permission",
  permission: "prescriptions:read",
  any: "prescriptions:read:any",
  policy: "prescriptions:care",
} as const;

const history = declareRoute({
  method: "get",
  path: "/prescriptions/{id}/history",
  operationId: "prescriptions_history",
  tags: ["prescriptions"],
  summary: "Every change to a prescription, oldest first, each with the prescription as it was after it",
  access: read,
  audit: { action: "read", table: "prescriptions" },
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: { 200: jsonResponse("A page of history entries", pageOf(HistoryEntry)), ...problems(400, 401, 403, 404) },
});

export function historyRoutes() {
  const app = newRouter();
  app.openapi(history, async (c) => {
    const slice = await prescriptionHistory(contextOf(c), c.req.valid("param").id, pageRequest(c.req.valid("query")));
    return c.json(page(c, slice, historyView), 200);
  });
  return app;
}

function historyView(h: PrescriptionHistoryRow) {
  return {
    id: h.id,
    prescription: h.prescriptionId,
    changed_by: h.changedBy,
    change: h.change as PrescriptionChange,
    snapshot: h.snapshot as z.infer<typeof Prescription>,
    changed_at: h.changedAt.toISOString(),
  };
}
