/** Who may do what with appointments: one screen. */
import { z } from "@hono/zod-openapi";
import { pageOf } from "../_list.ts";
import { declareRoute, declareUpdate, jsonBody, jsonResponse, problems } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { Appointment, AppointmentChange, AppointmentCreate, ListQuery } from "./schemas.ts";

const read = {
  kind: "permission",
  permission: "appointments:read",
  any: "appointments:read:any",
  policy: "appointments:party",
} as const;
const write = {
  kind: "permission",
  permission: "appointments:write",
  any: "appointments:write:any",
  policy: "appointments:party",
} as const;
const admin = { kind: "permission", permission: "appointments:write:any", policy: "all" } as const;
const TABLE = "appointments";
const tags = ["appointments"];
const conflict = {
  description: "The doctor is booked then: `conflicting_time` {start, end}, and `conflicting_appointment` " +
    "(its id) only when the caller may see that appointment",
  content: { "application/problem+json": { schema: z.looseObject({}) } },
};

export const list = declareRoute({
  method: "get",
  path: "/appointments",
  operationId: "appointments_list",
  tags,
  summary: "Appointments: a patient's own, a doctor's own, an admin all",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of appointments", pageOf(Appointment)), ...problems(400, 401, 403) },
});

export const get = declareRoute({
  method: "get",
  path: "/appointments/{id}",
  operationId: "appointments_read",
  tags,
  summary: "One appointment",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The appointment", Appointment), ...problems(401, 403, 404) },
});

export const create = declareRoute({
  method: "post",
  path: "/appointments",
  operationId: "appointments_create",
  tags,
  summary: "Book: a patient for themselves, a doctor for a patient under their care, an admin for anyone",
  description: "In the future, and inside one of the doctor's working-hours intervals where they keep hours.",
  access: write,
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(AppointmentCreate),
  responses: {
    201: jsonResponse("The appointment", Appointment),
    409: conflict,
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

export const [put, patch] = declareUpdate({
  path: "/appointments/{id}",
  operationId: "appointments",
  tags,
  summary: "Cancel, reschedule, complete, mark no-show, or edit notes or reason",
  description: "The patient cancels or reschedules (new time → `rescheduled`) before the start; " +
    "the doctor cancels, or once started completes or marks `no_show`; an admin makes any of these. " +
    "Cancelled, completed and no-show are final. `notes`: the doctor; `reason`: the patient. " +
    "Fields equal to the current values are no change. PUT requires `appointment_date`.",
  access: write,
  audit: { action: "update", table: TABLE },
  params: IdParam,
  body: AppointmentChange,
  bodyName: "Appointment",
  responses: {
    200: jsonResponse("The appointment", Appointment),
    409: conflict,
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

export const remove = declareRoute({
  method: "delete",
  path: "/appointments/{id}",
  operationId: "appointments_delete",
  tags,
  summary: "Delete an appointment (administrators; others cancel instead)",
  access: admin,
  audit: { action: "delete", table: TABLE },
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404, 409) },
});
