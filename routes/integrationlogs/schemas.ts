import { z } from "@hono/zod-openapi";
import { pageQuery } from "../_list.ts";
import { instant } from "../_schemas.ts";

const SYNC_STATUSES = ["pending", "success", "failed"] as const;
// deno-lint-ignore no-control-regex -- control characters are exactly what is refused
const line = (max: number) => z.string().max(max).regex(/^[^\u0000-\u001f]*$/, "No control characters");

export const IntegrationLog = z.object({
  id: z.number().int(),
  system_name: z.string(),
  data_type: z.string(),
  data_reference: z.string(),
  sync_status: z.enum(SYNC_STATUSES),
  detail: z.string(),
  latency_ms: z.number().int().nullable().openapi({ description: "How long an outbound call took" }),
  attempt: z.number().int().openapi({ description: "Which try of the same call (1 for the first)" }),
  appended_by: z.number().int().nullable().openapi({
    description: "The administrator who appended it; null when the system wrote it",
  }),
  created_at: z.string(),
}).openapi("IntegrationLog");

export const IntegrationLogCreate = z.strictObject({
  system_name: line(50).min(1),
  data_type: line(50).min(1),
  data_reference: line(200).optional(),
  sync_status: z.enum(SYNC_STATUSES),
  detail: z.string().max(2000).optional().openapi({ description: "No card data, secrets or health details" }),
}).openapi("IntegrationLogCreate");

export const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["created_at", "-created_at", "id", "-id"]).default("-created_at"),
  system_name: z.string().max(50).optional(),
  sync_status: z.enum(SYNC_STATUSES).optional(),
  from: instant.optional().openapi({ description: "Entries at or after (ISO 8601)" }),
  to: instant.optional().openapi({ description: "Entries before (ISO 8601)" }),
});
