/**
 * Appointment rules that are not HTTP: who may move an appointment from which status to which
 * (by their relation to it, never by role name), and the time rules — booked in the future,
 * inside the doctor's working hours in the doctor's time zone, free slots of a day.
 */
import { APPOINTMENT_STATUSES } from "../db/schema.ts";
import { ProblemError, sqlState } from "../middleware/problem.ts";

export { APPOINTMENT_STATUSES };
export type AppointmentStatus = typeof APPOINTMENT_STATUSES[number];

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

/** The doctor's time window is taken: a 409 whose body names the conflicting appointment. */
export class SlotTaken extends ProblemError {
  constructor(readonly doctorId: number, readonly start: Date, readonly end: Date, readonly excludeId?: number) {
    super(409, "appointment-conflict", "The doctor already has an appointment at this time");
  }
}

/** Maps the exclusion constraint `appointments_doctor_no_overlap` (SQLSTATE 23P01) to `SlotTaken`. */
export function overlapAsConflict(doctorId: number, start: Date, end: Date, excludeId?: number) {
  return (e: unknown): never => {
    if (sqlState(e) === "23P01") throw new SlotTaken(doctorId, start, end, excludeId);
    throw e;
  };
}

function invalid(pointer: string, detail: string): ProblemError {
  return new ProblemError(422, "validation", "The appointment cannot be changed this way", {
    errors: [{ pointer, detail }],
  });
}

function forbidden(detail: string): ProblemError {
  return new ProblemError(403, "forbidden", detail);
}

// ---- Working hours and time zones (Intl only; no time-zone library) ----

/** `working_hours` as stored on the doctor's profile (`{mon: [{start: "09:00", end: "17:00"}], …}`), and its zone. */
export interface DoctorSchedule {
  workingHours: unknown;
  timeZone: string | null;
}

export interface Interval {
  start: Date;
  end: Date;
}

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const HH_MM = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

/** A `YYYY-MM-DD` calendar date, or null when it is malformed or does not exist (2031-02-30). */
export function parseLocalDate(text: string | undefined): LocalDate | null {
  const m = text?.match(/^(\d{4})-(\d{2})-(\d{2})$/);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  return { year, month, day };
}

/**
 * The doctor's working intervals on one local calendar date, as UTC instants (so a day with a DST
 * change has the right length); null when the doctor keeps no working hours at all.
 */
export function workingIntervals(schedule: DoctorSchedule, date: LocalDate): Interval[] | null {
  const hours = schedule.workingHours;
  if (hours === null || hours === undefined || typeof hours !== "object" || Array.isArray(hours)) return null;
  const zone = safeTimeZone(schedule.timeZone);
  const weekday = WEEKDAYS[new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay()];
  const entries = (hours as Record<string, unknown>)[weekday];
  if (!Array.isArray(entries)) return [];
  const intervals: Interval[] = [];
  for (const entry of entries) {
    const from = minutesOf((entry as { start?: unknown })?.start);
    const to = minutesOf((entry as { end?: unknown })?.end);
    if (from === null || to === null || to <= from) continue;
    intervals.push({ start: zonedTimeToUtc(date, from, zone), end: zonedTimeToUtc(date, to, zone) });
  }
  return intervals.sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** True when the doctor keeps no hours, or [start, end) lies inside one interval of the start's local day. */
export function fitsWorkingHours(schedule: DoctorSchedule, start: Date, end: Date): boolean {
  const intervals = workingIntervals(schedule, localDateOf(start, safeTimeZone(schedule.timeZone)));
  if (intervals === null) return true;
  return intervals.some((i) => i.start.getTime() <= start.getTime() && end.getTime() <= i.end.getTime());
}

/**
 * Free slots of `duration` minutes on a local date: each working interval (or, without working
 * hours, the whole local day) cut from its start, minus slots that overlap a booking, future only.
 */
export function freeSlots(
  schedule: DoctorSchedule,
  date: LocalDate,
  durationMinutes: number,
  busy: Interval[],
  now: Date,
): Interval[] {
  const zone = safeTimeZone(schedule.timeZone);
  const intervals = workingIntervals(schedule, date) ??
    [{ start: zonedTimeToUtc(date, 0, zone), end: zonedTimeToUtc(date, 24 * 60, zone) }];
  const step = durationMinutes * 60_000;
  const slots: Interval[] = [];
  for (const interval of intervals) {
    for (let t = interval.start.getTime(); t + step <= interval.end.getTime(); t += step) {
      if (t <= now.getTime()) continue;
      if (busy.some((b) => b.start.getTime() < t + step && t < b.end.getTime())) continue;
      slots.push({ start: new Date(t), end: new Date(t + step) });
    }
  }
  return slots;
}

/** A UTC window that contains a local calendar date in every zone (offsets run from −12 to +14 hours). */
export function aroundLocalDate(date: LocalDate): Interval {
  const midnight = Date.UTC(date.year, date.month - 1, date.day);
  return { start: new Date(midnight - 15 * 3600_000), end: new Date(midnight + 39 * 3600_000) };
}

/** The IANA zone if the runtime knows it, else UTC (a stored zone is validated when it is written). */
export function safeTimeZone(zone: string | null | undefined): string {
  if (!zone) return "UTC";
  try {
    formatterFor(zone);
    return zone;
  } catch {
    return "UTC";
  }
}

/**
 * The instant at which the wall clock in `zone` shows `minutes` after midnight of `date`.
 * Two passes of the zone offset settle DST edges; a wall time skipped by a spring-forward change
 * maps to the instant an hour later on the wall clock, as most calendars do.
 */
export function zonedTimeToUtc(date: LocalDate, minutes: number, zone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
  const first = offsetOf(wall, zone);
  let instant = wall - first;
  const second = offsetOf(instant, zone);
  if (second !== first) instant = wall - second;
  return new Date(instant);
}

/** The local calendar date of an instant in `zone`. */
export function localDateOf(instant: Date, zone: string): LocalDate {
  const p = partsOf(instant.getTime(), zone);
  return { year: p.year, month: p.month, day: p.day };
}

function minutesOf(value: unknown): number | null {
  const m = typeof value === "string" ? value.match(HH_MM) : null;
  if (!m) return null;
  return m[3] ? 24 * 60 : Number(m[1]) * 60 + Number(m[2]);
}

/** Milliseconds the zone's wall clock is ahead of UTC at `instant`. */
function offsetOf(instant: number, zone: string): number {
  const p = partsOf(instant, zone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, f);
  }
  return f;
}

function partsOf(instant: number, zone: string) {
  const out: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(instant))) {
    if (part.type !== "literal") out[part.type] = Number(part.value);
  }
  return {
    year: out.year,
    month: out.month,
    day: out.day,
    hour: out.hour % 24,
    minute: out.minute,
    second: out.second,
  };
}
