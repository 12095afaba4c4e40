/** Prescriptions: who may do what (one screen) and the handlers; history in history.ts. */
import { contextOf } from "../../middleware/service_context.ts";
import * as prescriptions from "../../services/prescriptions.ts";
import { page, pageOf, pageRequest } from "../_list.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { historyRoutes, read } from "./history.ts";
import { ListQuery, Prescription, PrescriptionCreate, PrescriptionPatch } from "./schemas.ts";

const view = prescriptions.prescriptionRecord;
const TABLE = "prescriptions";
const tags = ["prescriptions"];

const list = declareRoute({
  method: "get",
  path: "/prescriptions",
  operationId: "prescriptions_list",
  tags,
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
  tags,
  summary: "One prescription",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The prescription", Prescription), ...problems(401, 403, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/prescriptions",
  operationId: "prescriptions_create",
  tags,
  summary: "Write a prescription for a patient under the caller's care (`doctor` is the caller; status starts active)",
  access: { kind: "permission", permission: "prescriptions:write", policy: "prescriptions:care" },
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(PrescriptionCreate),
  responses: { 201: jsonResponse("The new prescription", Prescription), ...problems(400, 401, 403, 413, 415, 422) },
});

const patch = declareRoute({
  method: "patch",
  path: "/prescriptions/{id}",
  operationId: "prescriptions_partial_update",
  tags,
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
    policy: "prescriptions:care",
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
  tags,
  summary: "Delete a prescription and its history (administrators)",
  access: { kind: "permission", permission: "prescriptions:write:any", policy: "all" },
  audit: { action: "delete", table: TABLE },
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404) },
});

export function prescriptionRoutes() {
  const app = newRouter();
  app.openapi(list, async (c) => {
    const { patient, doctor, status, ...q } = c.req.valid("query");
    const slice = await prescriptions.listPrescriptions(contextOf(c), { patient, doctor, status }, pageRequest(q));
    return c.json(page(c, slice, view), 200);
  });
  app.openapi(
    get,
    async (c) => c.json(view(await prescriptions.readPrescription(contextOf(c), c.req.valid("param").id)), 200),
  );
  app.openapi(create, async (c) => {
    const row = await prescriptions.writePrescription(contextOf(c, { respond: view }), c.req.valid("json"));
    return c.json(view(row), 201);
  });
  app.openapi(patch, async (c) => {
    const row = await prescriptions.changePrescription(contextOf(c), c.req.valid("param").id, c.req.valid("json"));
    return c.json(view(row), 200);
  });
  app.openapi(remove, async (c) => {
    await prescriptions.deletePrescription(contextOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.route("/", historyRoutes());
  return app;
}
