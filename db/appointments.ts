import { and, eq, gte, inArray, lt, ne, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { AppDeps, RowScope } from "../app_env.ts";
import type { Database } from "./client.ts";
import { queryRows } from "./client.ts";
import { underCareOf } from "./scoped.ts";
import { appointments, doctorProfiles, roles, userRoles } from "./schema.ts";

export type AppointmentRow = typeof appointments.$inferSelect;
export type AppointmentChanges = Partial<
  Pick<AppointmentRow, "appointmentDate" | "durationMinutes" | "status" | "notes" | "reason" | "cancellationReason">
>;

/**
 * Reads go through this alias: the "under care" predicate is a subquery on `appointments`
 * itself, and with the outer table unaliased its `"appointments"."patient_id"` would bind to the
 * subquery's own row (every appointment of a doctor's any live patient would match).
 */
const appt = alias(appointments, "appt");

export const APPOINTMENT_ORDERINGS = {
  appointment_date: appt.appointmentDate,
  created_at: appt.createdAt,
} as const;

/** Ids and sort keys pagination needs (the alias's columns). */
export const APPOINTMENT_ID = appt.id;

/**
 * The rows a caller reaches: their own as patient, those of patients under their care, and
 * their own as doctor (cancelled ones included); `undefined` means every row.
 */
export function appointmentScope(scope: RowScope | undefined): SQL | undefined {
  if (!scope) return sql`false`;
  if (scope.kind === "any") return undefined;
  // A patient sees their own appointments, a doctor theirs (contract); not other doctors' visits.
  return or(eq(appt.patientId, scope.userId), eq(appt.doctorId, scope.userId));
}

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
  scope: RowScope | undefined,
  query: AppointmentFilters & { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<AppointmentRow[]> {
  return db.select().from(appt)
    .where(and(
      appointmentScope(scope),
      query.patient === undefined ? undefined : eq(appt.patientId, query.patient),
      query.doctor === undefined ? undefined : eq(appt.doctorId, query.doctor),
      query.status === undefined ? undefined : eq(appt.status, query.status),
      query.from === undefined ? undefined : gte(appt.appointmentDate, query.from),
      query.to === undefined ? undefined : lt(appt.appointmentDate, query.to),
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

/** One appointment if it is in scope; `forUpdate` locks it for the rest of the transaction. */
export async function findAppointment(
  db: Database,
  scope: RowScope | undefined,
  id: number,
  options: { forUpdate?: boolean } = {},
): Promise<AppointmentRow | undefined> {
  const query = db.select().from(appt).where(and(eq(appt.id, id), appointmentScope(scope)));
  const [row] = options.forUpdate ? await query.for("update") : await query;
  return row;
}

/** Inserts a booking; `ends_at` is derived here (a check constraint holds it to start + duration). */
export async function insertAppointment(
  db: Database,
  values: Pick<AppointmentRow, "patientId" | "doctorId" | "appointmentDate" | "durationMinutes" | "reason" | "notes">,
  now: Date,
): Promise<AppointmentRow> {
  const [row] = await db.insert(appointments).values({
    ...values,
    endsAt: new Date(values.appointmentDate.getTime() + values.durationMinutes * 60_000),
    createdAt: now,
    updatedAt: now,
  }).returning();
  return row;
}

/** Applies planned changes to an appointment already found (and locked) in scope. */
export async function updateAppointment(
  db: Database,
  current: AppointmentRow,
  changes: AppointmentChanges,
  now: Date,
): Promise<AppointmentRow> {
  const start = changes.appointmentDate ?? current.appointmentDate;
  const duration = changes.durationMinutes ?? current.durationMinutes;
  const [row] = await db.update(appointments)
    .set({ ...changes, endsAt: new Date(start.getTime() + duration * 60_000), updatedAt: now })
    .where(eq(appointments.id, current.id))
    .returning();
  return row;
}

export async function deleteAppointment(db: Database, scope: RowScope | undefined, id: number) {
  const inScope = db.select({ id: appt.id }).from(appt).where(and(eq(appt.id, id), appointmentScope(scope)));
  const rows = await db.delete(appointments)
    .where(and(eq(appointments.id, id), inArray(appointments.id, inScope)))
    .returning({ id: appointments.id, patientId: appointments.patientId });
  return rows[0];
}

/**
 * A live appointment of the doctor overlapping [start, end), other than `excludeId`: its time
 * always, its id only when the caller's scope reaches it (the time alone names no patient).
 */
export async function findOverlap(
  { db }: Pick<AppDeps, "db">,
  scope: RowScope | undefined,
  window: { doctorId: number; start: Date; end: Date; excludeId?: number },
): Promise<{ id: number | null; start: Date; end: Date } | undefined> {
  const visible = appointmentScope(scope) ?? sql`true`;
  const [row] = await db.select({
    id: appt.id,
    start: appt.appointmentDate,
    end: appt.endsAt,
    visible: sql<boolean>`coalesce(${visible}, false)`,
  }).from(appt)
    .where(and(
      eq(appt.doctorId, window.doctorId),
      ne(appt.status, "cancelled"),
      lt(appt.appointmentDate, window.end),
      sql`${appt.endsAt} > ${window.start}`,
      window.excludeId === undefined ? undefined : ne(appt.id, window.excludeId),
    ))
    .orderBy(appt.appointmentDate)
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
    sql`select ${holdsRole(doctorId, "doctor")} as is_doctor, ${holdsRole(patientId, "patient")} as is_patient,
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

/** The doctor's schedule if `doctorId` holds the doctor role, else undefined. */
export async function doctorSchedule(
  db: Database,
  doctorId: number,
): Promise<{ workingHours: unknown; timeZone: string | null } | undefined> {
  const [row] = await db.select({ workingHours: doctorProfiles.workingHours, timeZone: doctorProfiles.timeZone })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .leftJoin(doctorProfiles, eq(doctorProfiles.userId, userRoles.userId))
    .where(and(eq(userRoles.userId, doctorId), eq(roles.roleName, "doctor")));
  return row && { workingHours: parseJson(row.workingHours), timeZone: row.timeZone };
}

/**
 * For free slots (not health data: times only, nothing about who): the doctor's schedule, or
 * undefined when the user is not a doctor, and the start and end of their live appointments
 * overlapping [from, to).
 */
export async function doctorBookings({ db }: Pick<AppDeps, "db">, doctorId: number, from: Date, to: Date) {
  const schedule = await doctorSchedule(db, doctorId);
  if (!schedule) return undefined;
  const busy = await db.select({ start: appointments.appointmentDate, end: appointments.endsAt }).from(appointments)
    .where(and(
      eq(appointments.doctorId, doctorId),
      ne(appointments.status, "cancelled"),
      lt(appointments.appointmentDate, to),
      sql`${appointments.endsAt} > ${from}`,
    ));
  return { schedule, busy };
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
