/** A lab result's file (download) and its corrections (a new version, with or without a new file). */
import type { z } from "@hono/zod-openapi";
import { contextOf } from "../../middleware/service_context.ts";
import * as labs from "../../services/lab_results.ts";
import { attachmentDisposition } from "../../services/file_types.ts";
import { declareRoute, jsonResponse, newRouter, problems } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { LabResult, LabResultCorrection, LabResultCorrectionForm, labValues, uploadBody } from "./schemas.ts";
import { UPLOAD_LIMIT, uploadOf } from "./upload.ts";
import { labResultView } from "./views.ts";

export const read = {
  kind: "permission",
  permission: "labresults:read",
  any: "labresults:read:any",
  policy: "labresults:care",
} as const;
export const write = { kind: "permission", permission: "labresults:write", policy: "labresults:care" } as const;
export const RULES = "A patient sees their own results once `final` or `corrected` (a preliminary one is 404); " +
  "a doctor sees every result of patients under their care.";
const BINARY = { schema: { type: "string", format: "binary" } } as const;

const download = declareRoute({
  method: "get",
  path: "/labresults/{id}/file",
  operationId: "labresults_file",
  tags: ["labresults"],
  summary: "Download the file of a lab result, as an attachment with its stored content type",
  description: RULES,
  access: read,
  audit: { action: "download", table: "lab_results" },
  request: { params: IdParam },
  responses: {
    200: {
      description: "The file's bytes",
      content: { "application/pdf": BINARY, "image/png": BINARY, "image/jpeg": BINARY, "text/plain": BINARY },
    },
    ...problems(401, 403, 404),
  },
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
  audit: { action: "create", table: "lab_results" },
  idempotent: true,
  bodyLimit: UPLOAD_LIMIT,
  request: { params: IdParam, ...uploadBody(LabResultCorrection, LabResultCorrectionForm) },
  responses: { 201: jsonResponse("The correction", LabResult), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

export function fileRoutes() {
  const app = newRouter();
  app.openapi(download, async (c) => {
    const file = await labs.downloadLabFile(contextOf(c), c.req.valid("param").id);
    return c.body(file.content as Uint8Array<ArrayBuffer>, 200, {
      "content-type": file.contentType === "text/plain" ? "text/plain; charset=utf-8" : file.contentType,
      "content-length": String(file.size),
      "content-disposition": attachmentDisposition(file.name),
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
      "cache-control": "private, no-store",
    });
  });
  app.openapi(correct, async (c) => {
    const upload = await uploadOf<z.output<typeof LabResultCorrection>>(
      c,
      () => c.req.valid("json"),
      () => c.req.valid("form"),
    );
    const ctx = contextOf(c, { respond: labResultView });
    const row = await labs.correctLabResult(ctx, c.req.valid("param").id, labValues(upload.fields), upload.file);
    return c.json(labResultView(row), 201);
  });
  return app;
}
