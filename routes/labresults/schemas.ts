import { z } from "@hono/zod-openapi";
import { createSelectSchema } from "drizzle-zod";
import { labResults } from "../../db/schema.ts";
import { pageQuery } from "../_list.ts";
import { idText, instant, ownerField } from "../_schemas.ts";

const column = createSelectSchema(labResults).shape;
export const STATUSES = ["preliminary", "final", "corrected"] as const;

export const LabFile = z.object({
  name: z.string(),
  content_type: z.enum(["application/pdf", "image/png", "image/jpeg", "text/plain"]),
  size: z.number().int(),
  sha256: z.string().openapi({ description: "Hex SHA-256 of the file's bytes" }),
}).openapi("LabFile");

export const LabResult = z.object({
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
  result_value: column.resultValue,
  unit: column.unit,
  reference_range: column.referenceRange,
  result_date: instant,
  comments: column.comments,
};
const filePart = z.custom<File>((v) => v instanceof File, { message: "Must be a file part" })
  .openapi({ type: "string", format: "binary", description: "PDF, PNG, JPEG or UTF-8 text, at most 10 MiB" });
const createFields = {
  test_type: column.testType.min(1),
  result_value: values.result_value,
  unit: values.unit.optional(),
  reference_range: values.reference_range.optional(),
  result_date: values.result_date.optional(),
  comments: values.comments.optional(),
  status: z.enum(["preliminary", "final"]),
};
export const LabResultCreate = z.strictObject({
  patient: ownerField,
  physician: ownerField.optional(),
  ...createFields,
})
  .openapi("LabResultCreate");
export const LabResultCreateForm = z.strictObject({
  patient: idText,
  physician: idText.optional(),
  ...createFields,
  file: filePart.optional(),
}).openapi("LabResultCreateForm");
export const LabResultPatch = z.strictObject({ ...createFields, ...values }).partial().openapi("LabResultPatch");
export const LabResultCorrection = z.strictObject(values).partial().openapi("LabResultCorrection");
export const LabResultCorrectionForm = z.strictObject({ ...values, file: filePart }).partial()
  .openapi("LabResultCorrectionForm");

export const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["id", "-id", "result_date", "-result_date", "created_at", "-created_at"]).default("-result_date"),
  patient: idText.optional().openapi({ description: "Only this patient's results" }),
  physician: idText.optional().openapi({ description: "Only those of this physician" }),
  status: z.enum(STATUSES).optional(),
  test_type: z.string().max(100).optional(),
  include_superseded: z.enum(["true", "false"]).default("false").openapi({
    description: "Also list earlier versions that a correction replaced",
  }),
});

/** A JSON body or a multipart form with the same fields (and an optional file). */
export const uploadBody = <J extends z.ZodType, F extends z.ZodType>(json: J, form: F) => ({
  // Not `required`: the JSON and form validators then each run only for their own media type.
  body: { required: false, content: { "application/json": { schema: json }, "multipart/form-data": { schema: form } } },
});

/** The body's fields as result columns. */
export function labValues(body: {
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
