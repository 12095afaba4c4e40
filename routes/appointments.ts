import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import {
  APPOINTMENT_ID,
  APPOINTMENT_ORDERINGS,
  type AppointmentRow,
  bookingFacts,
  deleteAppointment,
  doctorBookings,
  doctorSchedule,
  findAppointment,
  findOverlap,
  insertAppointment,
  listAppointments,
  updateAppointment,
} from "../db/appointments.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { notFound, onError, ProblemError, problemType, sqlState } from "../middleware/problem.ts";
import {
  APPOINTMENT_STATUSES,
  aroundLocalDate,
  type ChangeRequest,
  checkBookable,
  endOf,
  freeSlots,
  overlapAsConflict,
  parseLocalDate,
  partiesOf,
  planChange,
  safeTimeZone,
  SlotTaken,
} from "../services/appointment_rules.ts";
import { audited } from "../services/audited.ts";
import { keyset, orderingQuery, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { publicUrl } from "../config.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { countText, IdParam, idText, instant, ownerField, pageOf } from "./_schemas.ts";

const Appointment = z.object({
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

const duration = z.number().int().min(5).max(480);
const text = z.string().max(5000);

const AppointmentCreate = z.strictObject({
  patient: ownerField.optional().openapi({
    description: "A patient books for themselves: omit it or send your own id",
  }),
  doctor: ownerField.optional().openapi({ description: "A doctor books as themselves: omit it or send your own id" }),
  appointment_date: instant,
  duration_minutes: duration.default(30),
  reason: text.optional(),
  notes: text.optional().openapi({ description: "Written by the doctor (or an administrator)" }),
}).openapi("AppointmentCreate");
const changeFields = {
  patient: ownerField.openapi({ description: "Cannot be changed (may be echoed)" }),
  doctor: ownerField.openapi({ description: "Cannot be changed (may be echoed)" }),
  appointment_date: instant,
  duration_minutes: duration,
  status: z.enum(APPOINTMENT_STATUSES).openapi({ description: "`cancelled`, `completed` or `no_show`" }),
  notes: text,
  reason: text,
  cancellation_reason: text,
};
const AppointmentPatch = z.strictObject(changeFields).partial().openapi("AppointmentPatch");
const AppointmentPut = AppointmentPatch.required({ appointment_date: true }).openapi("AppointmentUpdate");

const ORDERINGS = Object.keys(APPOINTMENT_ORDERINGS) as (keyof typeof APPOINTMENT_ORDERINGS)[];
const userId = idText.optional();
const ListQuery = z.object({
  ...pageQuery,
  ordering: orderingQuery(ORDERINGS, "appointment_date"),
  patient: userId,
  doctor: userId,
  status: z.enum(APPOINTMENT_STATUSES).optional(),
  from: instant.optional().openapi({ description: "appointment_date ≥ from" }),
  to: instant.optional().openapi({ description: "appointment_date < to" }),
});
const SlotsQuery = z.object({
  date: z.string().optional().openapi({ description: "YYYY-MM-DD in the doctor's time zone (required)" }),
  duration: countText(5, 480).default(30),
});
const Slots = z.object({
  doctor: z.number().int(),
  date: z.string(),
  time_zone: z.string(),
  duration_minutes: z.number().int(),
  slots: z.array(z.object({ start: z.string(), end: z.string() })),
}).openapi("FreeSlots");

const read = {
  kind: "permission",
  permission: "appointments:read",
  any: "appointments:read:any",
  scope: "patient",
} as const;
const write = {
  kind: "permission",
  permission: "appointments:write",
  any: "appointments:write:any",
  scope: "patient",
} as const;
const TABLE = "appointments";
/** A doctor without a profile keeps no working hours. */
const NO_HOURS = { workingHours: null, timeZone: null };
const tags = ["appointments"];
const conflict = {
  description: "The doctor is booked then: `conflicting_time` {start, end}, and `conflicting_appointment` " +
    "(its id) only when the caller may see that appointment",
  content: { "application/problem+json": { schema: z.looseObject({}) } },
};

const list = declareRoute({
  method: "get",
  path: "/appointments",
  operationId: "appointments_list",
  tags,
  summary: "Appointments: a patient's own, a doctor's own and their patients', an admin all",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of appointments", pageOf(Appointment)), ...problems(400, 401, 403) },
});

const get = declareRoute({
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

const create = declareRoute({
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

const changeDescription = "The patient cancels or reschedules (new time → `rescheduled`) before the start; " +
  "the doctor cancels, or once started completes or marks `no_show`; an admin makes any of these. " +
  "Cancelled, completed and no-show are final. `notes`: the doctor; `reason`: the patient.";
const put = declareRoute({
  method: "put",
  path: "/appointments/{id}",
  operationId: "appointments_update",
  tags,
  summary: "Change an appointment (fields equal to the current values are no change)",
  description: changeDescription,
  access: write,
  audit: { action: "update", table: TABLE },
  request: { params: IdParam, ...jsonBody(AppointmentPut) },
  responses: {
    200: jsonResponse("The appointment", Appointment),
    409: conflict,
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

const patch = declareRoute({
  method: "patch",
  path: "/appointments/{id}",
  operationId: "appointments_partial_update",
  tags,
  summary: "Cancel, reschedule, complete, mark no-show, or edit notes or reason",
  description: changeDescription,
  access: write,
  audit: { action: "update", table: TABLE },
  request: { params: IdParam, ...jsonBody(AppointmentPatch) },
  responses: {
    200: jsonResponse("The appointment", Appointment),
    409: conflict,
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

const remove = declareRoute({
  method: "delete",
  path: "/appointments/{id}",
  operationId: "appointments_delete",
  tags,
  summary: "Delete an appointment (administrators; others cancel instead)",
  access: { kind: "permission", permission: "appointments:write:any", scope: "all" },
  audit: { action: "delete", table: TABLE },
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404, 409) },
});

const slots = declareRoute({
  method: "get",
  path: "/doctors/{id}/slots",
  operationId: "doctors_slots",
  tags: ["doctors"],
  summary: "A doctor's free slots on a date (start and end only; never who is booked)",
  access: { kind: "signed-in" },
  request: { params: IdParam, query: SlotsQuery },
  responses: { 200: jsonResponse("Free slots, in UTC", Slots), ...problems(400, 401, 404, 422) },
});

export function appointmentRoutes() {
  const app = newRouter();

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = keyset({
      ordering: q.ordering,
      columns: APPOINTMENT_ORDERINGS,
      id: APPOINTMENT_ID,
      pageSize: q.page_size,
      cursor: q.cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const field = q.ordering.replace(/^-/, "") as keyof typeof APPOINTMENT_ORDERINGS;
    const filters = {
      patient: q.patient,
      doctor: q.doctor,
      status: q.status,
      from: q.from === undefined ? undefined : new Date(q.from),
      to: q.to === undefined ? undefined : new Date(q.to),
    };
    const body = await audited(c, async (tx) => {
      const rows = await listAppointments(tx, c.get("scope"), { ...filters, ...page });
      const result = page.page(rows, (r) => ({ value: sortValue(r, field), id: r.id }), appointmentView);
      return { result, rowIds: result.results.map((a) => a.id), patientIds: result.results.map((a) => a.patient) };
    });
    return c.json(body, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const row = await audited(c, async (tx) => {
      const found = await findAppointment(tx, c.get("scope"), id);
      if (!found) throw notFound();
      return { result: found, rowIds: [id], patientIds: [found.patientId] };
    });
    return c.json(appointmentView(row), 200);
  });

  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    const me = principalOf(c).userId;
    const admin = c.get("scope")?.kind === "any";
    const doctorId = body.doctor ?? me;
    const patientId = body.patient ?? me;
    const start = new Date(body.appointment_date);
    const end = endOf(start, body.duration_minutes);
    const now = c.get("deps").clock();
    const row = await audited(c, async (tx) => {
      const asDoctor = !admin && doctorId === me;
      if (!admin && !asDoctor && patientId !== me) throw invalid("/patient", "Must be your own user id");
      if (!admin && !asDoctor && body.notes) throw invalid("/notes", "Notes are written by the doctor");
      const facts = await bookingFacts(tx, doctorId, patientId, asDoctor ? me : undefined);
      if (!facts.isDoctor) throw invalid("/doctor", body.doctor === undefined ? "Required" : "Not a doctor");
      if (asDoctor && !facts.underCare) throw invalid("/patient", "Not a patient under your care");
      if (!facts.isPatient || patientId === doctorId) throw invalid("/patient", "Not a patient");
      checkBookable(start, end, now, facts);
      const values = {
        patientId,
        doctorId,
        appointmentDate: start,
        durationMinutes: body.duration_minutes,
        reason: body.reason ?? "",
        notes: body.notes ?? "",
      };
      const created = await insertAppointment(tx, values, now)
        .catch(overlapAsConflict(doctorId, start, end));
      return { result: appointmentView(created), rowIds: [created.id], patientIds: [patientId] };
    });
    return c.json(row, 201);
  });

  const change = async (c: Context<AppEnv>, id: number, request: ChangeRequest) => {
    const row = await audited(c, async (tx) => {
      const current = await findAppointment(tx, c.get("scope"), id, { forUpdate: true });
      if (!current) throw notFound();
      const now = c.get("deps").clock();
      const caller = { userId: principalOf(c).userId, writeAny: c.get("scope")?.kind === "any" };
      const plan = planChange(current, request, partiesOf(current, caller), now);
      const start = plan.changes.appointmentDate ?? current.appointmentDate;
      const end = endOf(start, plan.changes.durationMinutes ?? current.durationMinutes);
      if (plan.transition === "reschedule") {
        checkBookable(start, end, now, await doctorSchedule(tx, current.doctorId) ?? NO_HOURS);
      }
      const updated = await updateAppointment(tx, current, plan.changes, now)
        .catch(overlapAsConflict(current.doctorId, start, end, current.id));
      return { result: updated, rowIds: [id], patientIds: [current.patientId] };
    }, { details: { fields: Object.keys(request), status: request.status } });
    return appointmentView(row);
  };
  app.openapi(put, async (c) => c.json(await change(c, c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(patch, async (c) => c.json(await change(c, c.req.valid("param").id, c.req.valid("json")), 200));

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    await audited(c, async (tx) => {
      const deleted = await deleteAppointment(tx, c.get("scope"), id).catch(hasPayments);
      if (!deleted) throw notFound();
      return { result: null, rowIds: [id], patientIds: [deleted.patientId] };
    });
    return c.body(null, 204);
  });

  app.openapi(slots, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const date = parseLocalDate(q.date);
    if (!date) {
      throw new ProblemError(422, "validation", "The date is invalid", {
        errors: [{ parameter: "date", detail: "A calendar date as YYYY-MM-DD" }],
      });
    }
    const window = aroundLocalDate(date);
    const doctor = await doctorBookings(c.get("deps"), id, window.start, window.end);
    if (!doctor) throw notFound();
    const free = freeSlots(doctor.schedule, date, q.duration, doctor.busy, c.get("deps").clock());
    return c.json({
      doctor: id,
      date: q.date!,
      time_zone: safeTimeZone(doctor.schedule.timeZone),
      duration_minutes: q.duration,
      slots: free.map((s) => ({ start: s.start.toISOString(), end: s.end.toISOString() })),
    }, 200);
  });

  app.onError((err, c) => err instanceof SlotTaken ? conflictResponse(c, err) : onError(err, c));
  return app;
}

/**
 * 409 for a booking or move into a taken time: the conflicting time, plus the conflicting
 * appointment's id only if the caller's scope reaches it (another patient's booking must not be
 * revealed, not even by its id). The app's problem shape has no extra members, hence this handler.
 */
async function conflictResponse(c: Context<AppEnv>, e: SlotTaken): Promise<Response> {
  const found = await findOverlap(c.get("deps"), c.get("scope"), {
    doctorId: e.doctorId,
    start: e.start,
    end: e.end,
    excludeId: e.excludeId,
  });
  const body = {
    type: problemType(e.slug),
    title: "Conflict",
    status: 409,
    detail: e.detail,
    request_id: c.get("requestId") ?? null,
    ...(found?.id ? { conflicting_appointment: found.id } : {}),
    ...(found ? { conflicting_time: { start: found.start.toISOString(), end: found.end.toISOString() } } : {}),
  };
  return c.body(JSON.stringify(body), 409, { "content-type": "application/problem+json" });
}

function invalid(pointer: string, detail: string): ProblemError {
  return new ProblemError(422, "validation", "The appointment cannot be booked", { errors: [{ pointer, detail }] });
}

function hasPayments(e: unknown): never {
  if (sqlState(e) === "23503") throw new ProblemError(409, "conflict", "The appointment has payments; cancel it");
  throw e;
}

function sortValue(row: AppointmentRow, field: keyof typeof APPOINTMENT_ORDERINGS): Date {
  return field === "created_at" ? row.createdAt : row.appointmentDate;
}

export function appointmentView(a: AppointmentRow) {
  return {
    id: a.id,
    patient: a.patientId,
    doctor: a.doctorId,
    appointment_date: a.appointmentDate.toISOString(),
    duration_minutes: a.durationMinutes,
    status: a.status as typeof APPOINTMENT_STATUSES[number],
    notes: a.notes,
    reason: a.reason,
    cancellation_reason: a.cancellationReason,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}
