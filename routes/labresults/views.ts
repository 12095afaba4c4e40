import type { z } from "@hono/zod-openapi";
import type { LabResultRow } from "../../services/lab_results.ts";
import type { LabFile, STATUSES } from "./schemas.ts";

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
