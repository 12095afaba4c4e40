/**
 * Appointments: book, read, change and delete, each in one unit of work through the caller's scope
 * (`appointments:party`: the appointments they are the patient or the doctor of; every row with
 * `appointments:*:any`). The rules themselves are pure functions in appointment_rules.ts.
 */
import * as repo from "../db/appointments.ts";
import { domainErrorOf, SlotTaken } from "../db/errors.ts";
import type { Database } from "../db/client.ts";
import type { Scope } from "../db/scope.ts";
import type { PolicyOf } from "../db/policies.ts";
import { Conflict, invalid, NotFound } from "../errors.ts";
import {
  type AppointmentStatus,
  type ChangeRequest,
  checkBookable,
  endOf,
  partiesOf,
  planChange,
} from "./appointment_rules.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";

export type { AppointmentListRow, AppointmentRow } from "../db/appointments.ts";
type AppointmentRow = repo.AppointmentRow;

export function listAppointments(
  ctx: ServiceContext,
  filters: repo.AppointmentFilters,
  page: PageRequest,
): Promise<Slice<repo.AppointmentListRow>> {
  const scope = scopeOf(ctx, "appointments");
  const pager = keyset(page, repo.APPOINTMENT_ORDERINGS, repo.APPOINTMENT_ID, ctx.deps.tokens.keys.cursorKey);
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await repo.listAppointments(db, scope, { ...filters, ...pager }));
    return { result: slice, rowIds: slice.rows.map((a) => a.id), patientIds: slice.rows.map((a) => a.patientId) };
  });
}

export function readAppointment(ctx: ServiceContext, id: number): Promise<AppointmentRow> {
  const scope = scopeOf(ctx, "appointments");
  return ctx.uow.read(async (db) => {
    const found = await repo.findAppointment(db, scope, id);
    if (!found) throw new NotFound();
    return { result: found, rowIds: [id], patientIds: [found.patientId] };
  });
}

export interface Booking {
  patient?: number;
  doctor?: number;
  appointmentDate: Date;
  durationMinutes: number;
  reason?: string;
  notes?: string;
}

/** A patient books for themselves; a doctor as themselves, for a patient under their care; an admin for anyone. */
export function bookAppointment(ctx: ServiceContext, booking: Booking): Promise<AppointmentRow> {
  const me = actorOf(ctx).userId;
  const scope = scopeOf(ctx, "appointments");
  const admin = scope.unrestricted;
  const doctorId = booking.doctor ?? me;
  const patientId = booking.patient ?? me;
  const start = booking.appointmentDate;
  const end = endOf(start, booking.durationMinutes);
  return ctx.uow.write(async (tx, effects) => {
    const asDoctor = !admin && doctorId === me;
    if (!admin && !asDoctor && patientId !== me) throw refused("/patient", "Must be your own user id");
    if (!admin && !asDoctor && booking.notes) throw refused("/notes", "Notes are written by the doctor");
    const facts = await repo.bookingFacts(tx, doctorId, patientId, asDoctor ? me : undefined);
    if (!facts.isDoctor) {
      throw refused("/doctor", booking.doctor === undefined ? "Required" : "Not a doctor who takes appointments");
    }
    if (asDoctor && !facts.underCare) throw refused("/patient", "Not a patient under your care");
    if (!facts.isPatient || patientId === doctorId) throw refused("/patient", "Not a patient");
    checkBookable(start, end, ctx.now, facts);
    const created = await repo.insertAppointment(tx, {
      patientId,
      doctorId,
      appointmentDate: start,
      durationMinutes: booking.durationMinutes,
      reason: booking.reason ?? "",
      notes: booking.notes ?? "",
    }, ctx.now);
    if (!created) throw await slotConflict(tx, scope, { doctorId, start, end });
    await effects.emit({ topic: "appointment.booked", payload: eventOf(created) });
    return { result: created, rowIds: [created.id], patientIds: [patientId] };
  });
}

/** Cancel, reschedule, complete, mark no-show or edit notes or reason, as the state machine allows the caller. */
export function changeAppointment(ctx: ServiceContext, id: number, request: ChangeRequest): Promise<AppointmentRow> {
  const scope = scopeOf(ctx, "appointments");
  const caller = { userId: actorOf(ctx).userId, writeAny: scope.unrestricted };
  return ctx.uow.write(async (tx, effects) => {
    const current = await repo.findAppointment(tx, scope, id, { lock: true });
    if (!current) throw new NotFound();
    const plan = planChange(current, request, partiesOf(current, caller), ctx.now);
    const start = plan.changes.appointmentDate ?? current.appointmentDate;
    const end = endOf(start, plan.changes.durationMinutes ?? current.durationMinutes);
    if (plan.transition === "reschedule") {
      const schedule = await repo.doctorSchedule(tx, current.doctorId);
      if (!schedule) throw refused("/appointment_date", "The doctor no longer takes appointments");
      checkBookable(start, end, ctx.now, schedule);
    }
    const window = { doctorId: current.doctorId, start, end, excludeId: current.id };
    const updated = await slotGuarded(
      tx,
      scope,
      window,
      () => repo.updateAppointment(tx, current, plan.changes, ctx.now),
    );
    const topic = TOPICS[plan.changes.status as AppointmentStatus];
    if (topic) await effects.emit({ topic, payload: eventOf(updated) });
    return { result: updated, rowIds: [id], patientIds: [current.patientId] };
  }, { details: { fields: Object.keys(request), status: request.status } });
}

/** Administrators delete; an appointment with payments is kept (409: cancel it instead). */
export function deleteAppointment(ctx: ServiceContext, id: number): Promise<void> {
  const scope = scopeOf(ctx, "appointments");
  return ctx.uow.write(async (tx) => {
    const row = await repo.findAppointment(tx, scope, id, { lock: true });
    if (!row) throw new NotFound();
    await repo.deleteAppointment(tx, row);
    return { result: undefined, rowIds: [id], patientIds: [row.patientId] };
  });
}

const TOPICS: Partial<Record<AppointmentStatus, string>> = {
  cancelled: "appointment.cancelled",
  rescheduled: "appointment.rescheduled",
};

function eventOf(a: AppointmentRow) {
  return { appointment: a.id, patient: a.patientId, doctor: a.doctorId, at: a.appointmentDate.toISOString() };
}

/**
 * Runs a reschedule that may hit the doctor's no-overlap constraint, under the doctor's calendar
 * lock and inside a savepoint, so that a clash becomes the same 409 a booking gets.
 */
async function slotGuarded<T>(
  tx: Database,
  scope: Scope<PolicyOf<"appointments">>,
  window: repo.SlotWindow,
  write: () => Promise<T>,
): Promise<T> {
  await repo.lockDoctorCalendar(tx, window.doctorId);
  try {
    return await tx.transaction(() => write());
  } catch (e) {
    if (!(domainErrorOf(e) instanceof SlotTaken)) throw e;
    throw await slotConflict(tx, scope, window);
  }
}

/**
 * The 409 for a taken slot: it names the conflicting time, and the conflicting appointment's id
 * only if the caller's scope reaches it (another patient's booking is not revealed, not even by its id).
 */
async function slotConflict(
  tx: Database,
  scope: Scope<PolicyOf<"appointments">>,
  window: repo.SlotWindow,
): Promise<Conflict> {
  const found = await repo.findOverlap(tx, scope, window);
  return new Conflict("appointment-conflict", "The doctor already has an appointment at this time", {
    members: {
      ...(found?.id ? { conflicting_appointment: found.id } : {}),
      ...(found ? { conflicting_time: { start: found.start.toISOString(), end: found.end.toISOString() } } : {}),
    },
  });
}

function refused(pointer: string, detail: string) {
  return invalid(pointer, detail, "The appointment cannot be booked");
}
