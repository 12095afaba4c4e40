/** Patient profiles: who may do what (one screen), the schemas from the table, and the handlers. */
import { z } from "@hono/zod-openapi";
import { createSelectSchema } from "drizzle-zod";
import { patientProfiles } from "../../db/schema.ts";
import { contextOf } from "../../middleware/service_context.ts";
import * as patients from "../../services/patients.ts";
import { page, pageOf, pageQuery, pageRequest } from "../_list.ts";
import { declareRoute, declareUpdate, jsonBody, jsonResponse, newRouter, problems } from "../_route.ts";
import { calendarDate, IdParam, ownerField } from "../_schemas.ts";
import { patientView } from "../_views.ts";
import { phone } from "../_schemas.ts";

const column = createSelectSchema(patientProfiles).shape;

const Patient = z.object({
  id: z.number().int(),
  user: z.number().int(),
  first_name: z.string(),
  last_name: z.string(),
  date_of_birth: z.string().nullable(),
  phone: z.string().nullable(),
  address: z.string().nullable(),
  emergency_contact: z.string().nullable(),
  medical_history: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Patient");

const editable = {
  first_name: column.firstName,
  last_name: column.lastName,
  date_of_birth: calendarDate.nullable(),
  phone: phone.nullable(),
  address: column.address,
  emergency_contact: column.emergencyContact,
  medical_history: column.medicalHistory,
};
const PatientCreate = z.strictObject({ user: ownerField, ...editable }).partial().openapi("PatientCreate");
/** PUT requires every editable field; PATCH takes any. */
const PatientChange = z.strictObject({ user: ownerField.optional(), ...editable });
const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["id", "-id", "last_name", "-last_name", "first_name", "-first_name", "created_at", "-created_at"])
    .default("id"),
  search: z.string().max(100).optional().openapi({ description: "Part of a first or last name" }),
});

const read = {
  kind: "permission",
  permission: "patients:read",
  any: "patients:read:any",
  policy: "patients:care",
} as const;
const write = {
  kind: "permission",
  permission: "patients:write",
  any: "patients:write:any",
  policy: "patients:self",
} as const;
const admin = { kind: "permission", permission: "patients:write:any", policy: "all" } as const;
const TABLE = "patient_profiles";
const tags = ["patients"];

const list = declareRoute({
  method: "get",
  path: "/patients",
  operationId: "patients_list",
  tags,
  summary: "Patient profiles: a patient sees their own, a doctor those under their care, an admin all",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of patients", pageOf(Patient)), ...problems(400, 401, 403) },
});

const get = declareRoute({
  method: "get",
  path: "/patients/{id}",
  operationId: "patients_read",
  tags,
  summary: "One patient profile",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The patient", Patient), ...problems(401, 403, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/patients",
  operationId: "patients_create",
  tags,
  summary: "Create a patient profile: a patient their own (once), an administrator anyone's",
  access: write,
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(PatientCreate),
  responses: { 201: jsonResponse("The new profile", Patient), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

const [put, patch] = declareUpdate({
  path: "/patients/{id}",
  operationId: "patients",
  tags,
  summary: "Change a patient profile (PUT: every field)",
  access: write,
  audit: { action: "update", table: TABLE },
  params: IdParam,
  body: PatientChange,
  bodyName: "Patient",
  responses: { 200: jsonResponse("The profile", Patient), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

const remove = declareRoute({
  method: "delete",
  path: "/patients/{id}",
  operationId: "patients_delete",
  tags,
  summary: "Delete a patient profile (administrators)",
  access: admin,
  audit: { action: "delete", table: TABLE },
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404) },
});

export function patientRoutes() {
  const app = newRouter();
  app.openapi(list, async (c) => {
    const { search, ...q } = c.req.valid("query");
    return c.json(page(c, await patients.listPatients(contextOf(c), { search }, pageRequest(q)), patientView), 200);
  });
  app.openapi(
    get,
    async (c) => c.json(patientView(await patients.readPatient(contextOf(c), c.req.valid("param").id)), 200),
  );
  app.openapi(create, async (c) => {
    const { user, ...body } = c.req.valid("json");
    const row = await patients.createPatient(contextOf(c, { respond: patientView }), user, patientValues(body));
    return c.json(patientView(row), 201);
  });
  for (const route of [put, patch]) {
    app.openapi(route, async (c) => {
      const { user, ...body } = c.req.valid("json");
      const row = await patients.changePatient(contextOf(c), c.req.valid("param").id, user, patientValues(body));
      return c.json(patientView(row), 200);
    });
  }
  app.openapi(remove, async (c) => {
    await patients.deletePatient(contextOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  return app;
}

function patientValues(body: Partial<Omit<z.infer<typeof PatientChange>, "user">>): patients.PatientValues {
  const values = {
    firstName: body.first_name,
    lastName: body.last_name,
    dateOfBirth: body.date_of_birth,
    phone: body.phone,
    address: body.address,
    emergencyContact: body.emergency_contact,
    medicalHistory: body.medical_history,
  };
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
