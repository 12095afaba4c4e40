import { z } from "@hono/zod-openapi";
import { createInsertSchema } from "drizzle-zod";
import { appointments } from "../../db/schema.ts";
import { APPOINTMENT_STATUSES } from "../../services/appointment_rules.ts";
import { pageQuery } from "../_list.ts";
import { idText, instant, ownerField } from "../_schemas.ts";

/** Column schemas (types and bounds) from the table; the contract's names and rules on top. */
const column = createInsertSchema(appointments).shape;
const duration = z.number().int().min(5).max(480);

export const Appointment = z.object({
  id: z.number().int(),
  patient: z.number().int(),
  doctor: z.number().int(),
  appointment_date: z.string(),
  duration_minutes: z.number().int(),
  status: z.enum(APPOINTMENT_STATUSES),
  notes: z.string(),
  reason: z.string(),
  cancellation_reason: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Appointment");

export const AppointmentCreate = z.strictObject({
  patient: ownerField.optional().openapi({
    description: "A patient books for themselves: omit it or send your own id",
  }),
  doctor: ownerField.optional().openapi({ description: "A doctor books as themselves: omit it or send your own id" }),
  appointment_date: instant,
  duration_minutes: duration.default(30),
  reason: column.reason.optional(),
  notes: column.notes.optional().openapi({ description: "Written by the doctor (or an administrator)" }),
}).openapi("AppointmentCreate");

/** PUT requires `appointment_date`; PATCH takes any of these. */
export const AppointmentChange = z.strictObject({
  patient: ownerField.optional().openapi({ description: "Cannot be changed (may be echoed)" }),
  doctor: ownerField.optional().openapi({ description: "Cannot be changed (may be echoed)" }),
  appointment_date: instant,
  duration_minutes: duration.optional(),
  status: z.enum(APPOINTMENT_STATUSES).optional().openapi({ description: "`cancelled`, `completed` or `no_show`" }),
  notes: column.notes.optional(),
  reason: column.reason.optional(),
  cancellation_reason: column.cancellationReason.optional(),
});

export const ORDERINGS = ["appointment_date", "created_at"] as const;

export const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["appointment_date", "-appointment_date", "created_at", "-created_at"]).default("appointment_date"),
  patient: idText.optional(),
  doctor: idText.optional(),
  status: z.enum(APPOINTMENT_STATUSES).optional(),
  from: instant.optional().openapi({ description: "appointment_date ≥ from" }),
  to: instant.optional().openapi({ description: "appointment_date < to" }),
});
