/** Lab results: who may do what (one screen) and the handlers; the file and corrections in files.ts. */
import type { z } from "@hono/zod-openapi";
import { contextOf } from "../../middleware/service_context.ts";
import * as labs from "../../services/lab_results.ts";
import { page, pageOf, pageRequest } from "../_list.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { fileRoutes, read, RULES, write } from "./files.ts";
import {
  LabResult,
  LabResultCreate,
  LabResultCreateForm,
  LabResultPatch,
  labValues,
  ListQuery,
  uploadBody,
} from "./schemas.ts";
import { UPLOAD_LIMIT, uploadOf } from "./upload.ts";
import { labResultView } from "./views.ts";

const TABLE = "lab_results";
const tags = ["labresults"];

const list = declareRoute({
  method: "get",
  path: "/labresults",
  operationId: "labresults_list",
  tags,
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
  tags,
  summary: "One lab result (earlier, corrected versions stay readable by id)",
  description: RULES,
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The lab result", LabResult), ...problems(401, 403, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/labresults",
  operationId: "labresults_create",
  tags,
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
  tags,
  summary: "Change a preliminary result, or make it final (its physician only)",
  description: "A final or corrected result is never edited (422): post a correction instead.",
  access: write,
  audit: { action: "update", table: TABLE },
  request: { params: IdParam, ...jsonBody(LabResultPatch) },
  responses: { 200: jsonResponse("The lab result", LabResult), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export function labResultRoutes() {
  const app = newRouter();
  app.openapi(list, async (c) => {
    const { include_superseded, test_type, patient, physician, status, ...q } = c.req.valid("query");
    const filters = {
      patient,
      physician,
      status,
      testType: test_type,
      includeSuperseded: include_superseded === "true",
    };
    return c.json(page(c, await labs.listLabResults(contextOf(c), filters, pageRequest(q)), labResultView), 200);
  });
  app.openapi(
    get,
    async (c) => c.json(labResultView(await labs.readLabResult(contextOf(c), c.req.valid("param").id)), 200),
  );
  app.openapi(create, async (c) => {
    const upload = await uploadOf<z.output<typeof LabResultCreate>>(
      c,
      () => c.req.valid("json"),
      () => c.req.valid("form"),
    );
    const { patient, physician, ...fields } = upload.fields;
    const values = { unit: "", referenceRange: "", comments: "", resultDate: contextOf(c).now, ...labValues(fields) };
    const input = { patient, physician, values: values as labs.LabResultValues, file: upload.file };
    const row = await labs.recordLabResult(contextOf(c, { respond: labResultView }), input);
    return c.json(labResultView(row), 201);
  });
  app.openapi(patch, async (c) => {
    const row = await labs.changeLabResult(contextOf(c), c.req.valid("param").id, labValues(c.req.valid("json")));
    return c.json(labResultView(row), 200);
  });
  app.route("/", fileRoutes());
  return app;
}
