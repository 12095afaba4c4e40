import { z } from "@hono/zod-openapi";
import { createSelectSchema } from "drizzle-zod";
import { prescriptions } from "../../db/schema.ts";
import { pageQuery } from "../_list.ts";
import { idText, ownerField } from "../_schemas.ts";

const column = createSelectSchema(prescriptions).shape;
const STATUSES = ["active", "completed", "cancelled"] as const;

export const Prescription = z.object({
  id: z.number().int(),
  patient: z.number().int(),
  doctor: z.number().int(),
  medication: z.string(),
  dosage: z.string(),
  frequency: z.string(),
  instructions: z.string(),
  refill_requested: z.boolean(),
  request_date: z.string().nullable(),
  approved_date: z.string().nullable(),
  denial_reason: z.string().nullable(),
  status: z.enum(STATUSES),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Prescription");

export const HistoryEntry = z.object({
  id: z.number().int(),
  prescription: z.number().int(),
  changed_by: z.number().int().nullable(),
  change: z.enum(["created", "updated", "refill_requested", "refill_approved", "refill_denied"]),
  snapshot: Prescription,
  changed_at: z.string(),
}).openapi("PrescriptionHistoryEntry");

export const PrescriptionCreate = z.strictObject({
  patient: ownerField,
  doctor: ownerField.optional(),
  medication: column.medication.min(1),
  dosage: column.dosage.min(1),
  frequency: column.frequency.min(1),
  instructions: column.instructions.optional(),
}).openapi("PrescriptionCreate");

export const PrescriptionPatch = z.strictObject({
  refill_requested: z.literal(true),
  approve_refill: z.literal(true),
  deny_refill: z.literal(true),
  denial_reason: z.string().min(1).max(5000),
  dosage: column.dosage.min(1),
  frequency: column.frequency.min(1),
  instructions: column.instructions,
  status: z.enum(STATUSES),
}).partial().openapi("PrescriptionPatch");

export const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["id", "-id", "created_at", "-created_at", "updated_at", "-updated_at"]).default("-created_at"),
  patient: idText.optional().openapi({ description: "Only this patient's prescriptions" }),
  doctor: idText.optional().openapi({ description: "Only those written by this doctor" }),
  status: z.enum(STATUSES).optional(),
});
