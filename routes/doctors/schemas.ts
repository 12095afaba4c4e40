import { z } from "@hono/zod-openapi";
import { createSelectSchema } from "drizzle-zod";
import { doctorProfiles } from "../../db/schema.ts";
import { pageQuery } from "../_list.ts";
import { ownerField, TimeZone } from "../_schemas.ts";
import { WorkingHours } from "../_working_hours.ts";

const column = createSelectSchema(doctorProfiles).shape;

export const Doctor = z.object({
  id: z.number().int(),
  user: z.number().int(),
  first_name: z.string(),
  last_name: z.string(),
  specialization: z.string(),
  bio: z.string(),
  working_hours: WorkingHours.nullable(),
  time_zone: z.string(),
  consultation_fee: z.number().int().openapi({
    description: "What an appointment costs, in minor units of `currency`",
  }),
  currency: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Doctor");

const editable = {
  first_name: column.firstName,
  last_name: column.lastName,
  specialization: column.specialization,
  bio: column.bio,
  working_hours: WorkingHours.nullable(),
  time_zone: TimeZone,
  consultation_fee: z.number().int().min(0).max(100_000_000_000).optional()
    .openapi({ description: "Minor units (cents); what a patient's payment is checked against" }),
  currency: z.string().regex(/^[A-Z]{3}$/, "An ISO 4217 code in capitals, such as USD or KES").optional(),
};
export const DoctorCreate = z.strictObject({
  user: ownerField.optional().openapi({ description: "A doctor creates their own: omit it or send your own id" }),
  ...editable,
}).partial().openapi("DoctorCreate");
/** PUT requires every editable field; PATCH takes any. */
export const DoctorChange = z.strictObject({ user: ownerField.optional(), ...editable });

export const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["id", "-id", "last_name", "-last_name", "specialization", "-specialization"]).default("id"),
  specialization: z.string().max(100).optional().openapi({ description: "Exact specialization, any letter case" }),
  search: z.string().max(100).optional().openapi({ description: "Part of a first name, last name or full name" }),
});

/** The fields of a body as profile columns. */
export function doctorValues(body: Omit<z.infer<typeof DoctorChange>, "user"> | Partial<z.infer<typeof DoctorChange>>) {
  const { first_name, last_name, working_hours, time_zone, specialization, bio, consultation_fee, currency } = body;
  const values = {
    firstName: first_name,
    lastName: last_name,
    workingHours: working_hours,
    timeZone: time_zone,
    specialization,
    bio,
    consultationFee: consultation_fee,
    currency,
  };
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
