import { and, eq, gte, lt, ne, type SQL, sql } from "drizzle-orm";
import { type Database, queryRows } from "./client.ts";
import { type Listed, listedRows } from "./listed_rows.ts";
import { preparedFor } from "./prepared.ts";
import { type PolicyOf, underCareOf } from "./policies.ts";
import { appointments, doctorProfiles, roles, userRoles, users } from "./schema.ts";
import { type InScope, inScopeRow, restrict, type Scope } from "./scope.ts";

export type AppointmentRow = typeof appointments.$inferSelect;
/** An appointment as the list reads it (instants as ISO text). */
export type AppointmentListRow = Listed<AppointmentRow>;
export type AppointmentChanges = Partial<
  Pick<AppointmentRow, "appointmentDate" | "durationMinutes" | "status" | "notes" | "reason" | "cancellationReason">
>;
type AppointmentScope = Scope<PolicyOf<"appointments">>;

export const APPOINTMENT_ORDERINGS = {
  appointment_date: {
    column: appointments.appointmentDate,
    value: (r: AppointmentListRow) => new Date(r.appointmentDate),
  },
  created_at: { column: appointments.createdAt, value: (r: AppointmentListRow) => new Date(r.createdAt) },
};
export const APPOINTMENT_ID = { column: appointments.id, value: (r: AppointmentListRow) => r.id };

export interface AppointmentFilters {
  patient?: number;
  doctor?: number;
  status?: string;
  /** Inclusive lower bound on appointment_date. */
  from?: Date;
  /** Exclusive upper bound on appointment_date. */
  to?: Date;
}

/** Appointments in the caller's scope: one query whatever the page size. */
export function listAppointments(
  db: Database,
  scope: AppointmentScope,
  query: AppointmentFilters & { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<AppointmentListRow[]> {
  const select = db.select().from(appointments)
    .where(and(
      restrict(scope),
      query.patient === undefined ? undefined : eq(appointments.patientId, query.patient),
      query.doctor === undefined ? undefined : eq(appointments.doctorId, query.doctor),
      query.status === undefined ? undefined : eq(appointments.status, query.status),
      query.from === undefined ? undefined : gte(appointments.appointmentDate, query.from),
      query.to === undefined ? undefined : lt(appointments.appointmentDate, query.to),
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
  return listedRows(db, select, appointments);
}

/** One appointment if it is in scope; `lock` holds it for the rest of the transaction. */
export async function findAppointment(
  db: Database,
  scope: AppointmentScope,
  id: number,
  options: { lock?: boolean } = {},
): Promise<InScope<AppointmentRow> | undefined> {
  const query = db.select().from(appointments).where(and(eq(appointments.id, id), restrict(scope)));
  const [row] = options.lock ? await query.for("update") : await query;
  return inScopeRow(row);
}

const SLOT_LOCK_SPACE = 0x534c54; // "SLT"

/**
 * Holds the doctor's calendar until the transaction ends. Two overlapping inserts checked by the
 * exclusion constraint at the same moment can each find the other's row and wait for it: a
 * deadlock Postgres breaks by aborting one (40P01), and with 50 at once it aborted them all. Taken
 * first, this lock makes every reschedule of one doctor check in turn (bookings: insertAppointment).
 */
export async function lockDoctorCalendar(db: Database, doctorId: number): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(${SLOT_LOCK_SPACE}, ${doctorId})`);
}

/**
 * Inserts a booking, or nothing (undefined) when the doctor's time is taken; `ends_at` is derived
 * here (a check constraint holds it to start + duration). No calendar lock: with `on conflict do
 * nothing` (its arbiters: the exclusion constraint, the serial key) Postgres checks by speculative
 * insertion, withdrawing its row before it waits on a rival's, so overlapping inserts queue instead
 * of deadlocking and the others do not wait at all.
 */
export async function insertAppointment(
  db: Database,
  values: Pick<AppointmentRow, "patientId" | "doctorId" | "appointmentDate" | "durationMinutes" | "reason" | "notes">,
  now: Date,
): Promise<AppointmentRow | undefined> {
  const endsAt = new Date(values.appointmentDate.getTime() + values.durationMinutes * 60_000);
  const [row] = await insertBooking(db).execute({ ...values, endsAt, now });
  return row;
}

const insertBooking = preparedFor((db) =>
  db.insert(appointments).values({
    patientId: sql.placeholder("patientId"),
    doctorId: sql.placeholder("doctorId"),
    appointmentDate: sql.placeholder("appointmentDate"),
    durationMinutes: sql.placeholder("durationMinutes"),
    endsAt: sql.placeholder("endsAt"),
    reason: sql.placeholder("reason"),
    notes: sql.placeholder("notes"),
    createdAt: sql.placeholder("now"),
    updatedAt: sql.placeholder("now"),
  }).onConflictDoNothing().returning().prepare("insert_appointment")
);

/** Applies planned changes to an appointment read (and locked) through the caller's scope. */
export async function updateAppointment(
  db: Database,
  current: InScope<AppointmentRow>,
  changes: AppointmentChanges,
  now: Date,
): Promise<AppointmentRow> {
  const start = changes.appointmentDate ?? current.appointmentDate;
  const duration = changes.durationMinutes ?? current.durationMinutes;
  // A new time gets a new reminder.
  const reminder = changes.appointmentDate ? { reminderSentAt: null } : {};
  const [row] = await db.update(appointments)
    .set({ ...changes, ...reminder, endsAt: new Date(start.getTime() + duration * 60_000), updatedAt: now })
    .where(eq(appointments.id, current.id))
    .returning();
  return row;
}

export async function deleteAppointment(db: Database, row: InScope<AppointmentRow>): Promise<void> {
  await db.delete(appointments).where(eq(appointments.id, row.id));
}

export type SlotWindow = { doctorId: number; start: Date; end: Date; excludeId?: number };
/**
 * A live appointment of the doctor overlapping [start, end), other than `excludeId`: its time
 * always, its id only when the caller's scope reaches it (the time alone names no patient).
 */
export async function findOverlap(
  db: Database,
  scope: AppointmentScope,
  window: SlotWindow,
): Promise<{ id: number | null; start: Date; end: Date } | undefined> {
  const visible = restrict(scope) ?? sql`true`;
  const [row] = await db.select({
    id: appointments.id,
    start: appointments.appointmentDate,
    end: appointments.endsAt,
    visible: sql<boolean>`coalesce(${visible}, false)`,
  }).from(appointments)
    .where(and(
      eq(appointments.doctorId, window.doctorId),
      ne(appointments.status, "cancelled"),
      lt(appointments.appointmentDate, window.end),
      sql`${appointments.endsAt} > ${window.start}`,
      window.excludeId === undefined ? undefined : ne(appointments.id, window.excludeId),
    ))
    .orderBy(appointments.appointmentDate)
    .limit(1);
  return row && { id: row.visible ? row.id : null, start: row.start, end: row.end };
}

export interface BookingFacts {
  isDoctor: boolean;
  isPatient: boolean;
  /** Only asked when `careOf` is given: does that doctor already care for the patient? */
  underCare: boolean;
  workingHours: unknown;
  timeZone: string | null;
}

/** Everything a booking checks about its two parties, in one round trip. */
export async function bookingFacts(
  db: Database,
  doctorId: number,
  patientId: number,
  careOf?: number,
): Promise<BookingFacts> {
  const [row] = await queryRows<{
    is_doctor: boolean;
    is_patient: boolean;
    under_care: boolean;
    working_hours: unknown;
    time_zone: string | null;
  }>(
    db,
    sql`select ${holdsRole(doctorId, "doctor")} and ${isActive(doctorId)} as is_doctor,
      ${holdsRole(patientId, "patient")} as is_patient,
      ${careOf === undefined ? sql`false` : underCareOf(careOf, sql`${patientId}::integer`)} as under_care,
      dp.working_hours, dp.time_zone
    from (select 1) as one left join ${doctorProfiles} dp on dp.user_id = ${doctorId}`,
  );
  return {
    isDoctor: Boolean(row.is_doctor),
    isPatient: Boolean(row.is_patient),
    underCare: Boolean(row.under_care),
    workingHours: parseJson(row.working_hours),
    timeZone: row.time_zone,
  };
}

/** The doctor's schedule if `doctorId` holds the doctor role and the account is active, else undefined. */
export async function doctorSchedule(
  db: Database,
  doctorId: number,
): Promise<{ workingHours: unknown; timeZone: string | null } | undefined> {
  const [row] = await db.select({ workingHours: doctorProfiles.workingHours, timeZone: doctorProfiles.timeZone })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .innerJoin(users, eq(users.id, userRoles.userId))
    .leftJoin(doctorProfiles, eq(doctorProfiles.userId, userRoles.userId))
    .where(and(eq(userRoles.userId, doctorId), eq(roles.roleName, "doctor"), eq(users.accountStatus, "active")));
  return row && { workingHours: parseJson(row.workingHours), timeZone: row.timeZone };
}

/**
 * For free slots (not health data: times only, nothing about who): the start and end of the
 * doctor's live appointments overlapping [from, to).
 */
export function busyTimes(db: Database, doctorId: number, from: Date, to: Date) {
  return db.select({ start: appointments.appointmentDate, end: appointments.endsAt }).from(appointments)
    .where(and(
      eq(appointments.doctorId, doctorId),
      ne(appointments.status, "cancelled"),
      lt(appointments.appointmentDate, to),
      sql`${appointments.endsAt} > ${from}`,
    ));
}

/** A suspended or deactivated account takes no appointments (its history stays). */
function isActive(userId: number): SQL {
  return sql`exists (select 1 from ${users} where ${users.id} = ${userId} and ${users.accountStatus} = 'active')`;
}

function holdsRole(userId: number, roleName: string): SQL {
  return sql`exists (select 1 from ${userRoles} join ${roles} on ${roles.id} = ${userRoles.roleId}
    where ${userRoles.userId} = ${userId} and ${roles.roleName} = ${roleName})`;
}

/** jsonb read through raw SQL is parsed by both drivers; a string here means a JSON scalar string. */
function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
