/**
 * Appointment rules that are not HTTP: who may move an appointment from which status to which
 * (by their relation to it, never by role name), and the time rules: booked in the future,
 * inside the doctor's working hours in the doctor's time zone (working_hours.ts).
 */
import { APPOINTMENT_STATUSES } from "../db/schema.ts";
import { Forbidden, invalid as invalidField } from "../errors.ts";
import { type DoctorSchedule, fitsWorkingHours } from "./working_hours.ts";

export { APPOINTMENT_STATUSES };
export type AppointmentStatus = typeof APPOINTMENT_STATUSES[number];

const CANNOT = "The appointment cannot be changed this way";

/** Statuses an appointment can still leave; the others (cancelled, completed, no_show) are final. */
export const ACTIVE_STATUSES: readonly string[] = ["scheduled", "rescheduled"];

/** How the caller relates to one appointment. `admin`: holds `appointments:write:any`. */
export type Party = "patient" | "doctor" | "admin";

export function partiesOf(
  appointment: { patientId: number; doctorId: number },
  caller: { userId: number; writeAny: boolean },
): Set<Party> {
  const parties = new Set<Party>();
  if (appointment.patientId === caller.userId) parties.add("patient");
  if (appointment.doctorId === caller.userId) parties.add("doctor");
  if (caller.writeAny) parties.add("admin");
  return parties;
}

export type Transition = "cancel" | "reschedule" | "complete" | "no_show";

interface TransitionRule {
  to: AppointmentStatus;
  by: readonly Party[];
  /** `after`: only once the appointment has started; `patient-before`: a patient acting alone only before. */
  start?: "after" | "patient-before";
}

/** The state machine: every transition leaves an active status; nothing leaves a final one. */
export const TRANSITIONS: Record<Transition, TransitionRule> = {
  cancel: { to: "cancelled", by: ["patient", "doctor", "admin"], start: "patient-before" },
  reschedule: { to: "rescheduled", by: ["patient", "admin"], start: "patient-before" },
  complete: { to: "completed", by: ["doctor", "admin"], start: "after" },
  no_show: { to: "no_show", by: ["doctor", "admin"], start: "after" },
};

/** Who may edit a free-text field in place. */
const EDITORS = { notes: ["doctor", "admin"], reason: ["patient", "admin"] } as const satisfies Record<
  string,
  readonly Party[]
>;

export interface AppointmentState {
  patientId: number;
  doctorId: number;
  appointmentDate: Date;
  durationMinutes: number;
  status: string;
  notes: string;
  reason: string;
  cancellationReason: string;
}

export interface ChangeRequest {
  patient?: number;
  doctor?: number;
  appointment_date?: string;
  duration_minutes?: number;
  status?: AppointmentStatus;
  notes?: string;
  reason?: string;
  cancellation_reason?: string;
}

export interface ChangePlan {
  transition?: Transition;
  changes:
    & Partial<
      Pick<AppointmentState, "appointmentDate" | "durationMinutes" | "notes" | "reason" | "cancellationReason">
    >
    & { status?: AppointmentStatus };
}

/**
 * Checks a PATCH/PUT against the state machine and the caller's relation to the appointment and
 * returns the column changes. A value equal to the current one is no change (PUT may echo the row).
 * 403 when the caller's relation does not allow it, 422 when no one could do it from this status.
 */
export function planChange(current: AppointmentState, request: ChangeRequest, parties: Set<Party>, now: Date) {
  if (request.patient !== undefined && request.patient !== current.patientId) {
    throw invalid("/patient", "Cannot be changed");
  }
  if (request.doctor !== undefined && request.doctor !== current.doctorId) {
    throw invalid("/doctor", "Cannot be changed");
  }
  const plan: ChangePlan = { changes: {} };
  const start = request.appointment_date === undefined ? current.appointmentDate : new Date(request.appointment_date);
  const duration = request.duration_minutes ?? current.durationMinutes;
  const moves = start.getTime() !== current.appointmentDate.getTime() || duration !== current.durationMinutes;
  const wanted = request.status !== undefined && request.status !== current.status ? request.status : undefined;
  if (moves) {
    if (wanted && wanted !== "rescheduled") throw invalid("/status", "Change the time or the status, not both");
    plan.transition = "reschedule";
  } else if (wanted) {
    const byStatus: Partial<Record<AppointmentStatus, Transition>> = {
      cancelled: "cancel",
      completed: "complete",
      no_show: "no_show",
    };
    plan.transition = byStatus[wanted];
    if (!plan.transition) throw invalid("/status", "Set by the server: move the appointment to reschedule it");
  }
  if (plan.transition) {
    const rule = TRANSITIONS[plan.transition];
    if (!rule.by.some((p) => parties.has(p))) throw forbidden(`You may not ${plan.transition.replace("_", " ")} this`);
    if (!ACTIVE_STATUSES.includes(current.status)) {
      const verb = current.status === "cancelled" ? "revived or changed" : "changed";
      throw invalid("/status", `A ${current.status} appointment cannot be ${verb}`);
    }
    const started = current.appointmentDate.getTime() <= now.getTime();
    if (rule.start === "after" && !started) throw invalid("/status", "Only once the appointment has started");
    const patientAlone = !rule.by.some((p) => p !== "patient" && parties.has(p));
    if (rule.start === "patient-before" && patientAlone && started) {
      throw invalid("/status", "The appointment has already started");
    }
    plan.changes.status = rule.to;
  }
  if (moves) {
    if (start.getTime() <= now.getTime()) throw invalid("/appointment_date", "Must be in the future");
    plan.changes.appointmentDate = start;
    plan.changes.durationMinutes = duration;
  }
  for (const field of ["notes", "reason"] as const) {
    const value = request[field];
    if (value === undefined || value === current[field]) continue;
    if (!EDITORS[field].some((p) => parties.has(p))) throw forbidden(`You may not change ${field}`);
    if (field === "reason" && !ACTIVE_STATUSES.includes(current.status)) {
      throw invalid("/reason", `Cannot be changed on a ${current.status} appointment`);
    }
    plan.changes[field] = value;
  }
  const cancellation = request.cancellation_reason;
  if (cancellation !== undefined && cancellation !== current.cancellationReason) {
    if (plan.transition !== "cancel") throw invalid("/cancellation_reason", "Only together with status cancelled");
    plan.changes.cancellationReason = cancellation;
  }
  return plan;
}

/** A booking's time rules: in the future and, where the doctor keeps hours, inside one interval. */
export function checkBookable(start: Date, end: Date, now: Date, schedule: DoctorSchedule): void {
  if (start.getTime() <= now.getTime()) throw invalid("/appointment_date", "Must be in the future");
  if (end.getTime() > LATEST_END) throw invalid("/duration_minutes", "Must end by 9999-12-31");
  if (!fitsWorkingHours(schedule, start, end)) {
    throw invalid("/appointment_date", "Outside the doctor's working hours");
  }
}

/** The last instant an appointment may end (what Postgres and a JS Date both hold). */
const LATEST_END = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function endOf(start: Date, durationMinutes: number): Date {
  return new Date(start.getTime() + durationMinutes * 60_000);
}

const invalid = (pointer: string, detail: string) => invalidField(pointer, detail, CANNOT);
const forbidden = (detail: string) => new Forbidden(detail);
