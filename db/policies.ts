/**
 * Who reaches which rows: one policy per table, by name. A route declares the policy it uses; the
 * predicate below is what runs, and the OpenAPI `x-access` text is `describe`. The `:any`
 * permission of a route lifts its policy (every row); `all` is every row for whoever may call.
 */
import { and, arrayContains, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { alias } from "drizzle-orm/pg-core";
import {
  appointments,
  auditLogs,
  doctorProfiles,
  labResults,
  messages,
  notificationPreferences,
  notifications,
  patientProfiles,
  payments,
  prescriptions,
  users,
} from "./schema.ts";

export interface Policy {
  /** The table whose rows it selects (`*` for any). */
  table: string;
  /** Which rows the caller reaches, completing "the caller reaches …". */
  describe: string;
  where(actor: number): SQL | undefined;
}

/** Statuses a patient sees of their own lab results: a preliminary result is not released to them yet. */
export const PATIENT_VISIBLE_STATUSES = ["final", "corrected"] as const;

export const POLICIES = {
  all: { table: "*", describe: "every row", where: () => undefined },
  "users:self": { table: "users", describe: "their own account", where: (me) => eq(users.id, me) },
  "patients:self": {
    table: "patient_profiles",
    describe: "their own profile",
    where: (me) => eq(patientProfiles.userId, me),
  },
  "patients:care": {
    table: "patient_profiles",
    describe: "their own profile, or those of patients under their care",
    where: (me) => or(eq(patientProfiles.userId, me), underCareOf(me, patientProfiles.userId)),
  },
  "doctors:listed": {
    table: "doctor_profiles",
    describe: "the doctors whose accounts are active (a suspended or deactivated doctor leaves the directory)",
    where: () =>
      sql`exists (select 1 from ${users} where ${users.id} = ${doctorProfiles.userId} and ${users.accountStatus} = 'active')`,
  },
  "doctors:self": {
    table: "doctor_profiles",
    describe: "their own profile",
    where: (me) => eq(doctorProfiles.userId, me),
  },
  "appointments:party": {
    table: "appointments",
    describe: "appointments they are the patient or the doctor of",
    where: (me) => or(eq(appointments.patientId, me), eq(appointments.doctorId, me)),
  },
  "prescriptions:care": {
    table: "prescriptions",
    describe: "their own prescriptions, or those of patients under their care",
    where: (me) => or(eq(prescriptions.patientId, me), underCareOf(me, prescriptions.patientId)),
  },
  "labresults:care": {
    table: "lab_results",
    describe: "their own results once final or corrected, or every result of patients under their care",
    where: (me) =>
      or(
        and(eq(labResults.patientId, me), inArray(labResults.status, [...PATIENT_VISIBLE_STATUSES])),
        underCareOf(me, labResults.patientId),
      ),
  },
  "notifications:self": {
    table: "notifications",
    describe: "their own notifications",
    where: (me) => eq(notifications.userId, me),
  },
  "messages:party": {
    table: "messages",
    describe: "messages they sent or received",
    where: (me) => or(eq(messages.senderId, me), eq(messages.receiverId, me)),
  },
  "preferences:self": {
    table: "notification_preferences",
    describe: "their own preferences",
    where: (me) => eq(notificationPreferences.userId, me),
  },
  "payments:own": {
    table: "payments",
    describe: "their own payments (and, to pay, their own appointments)",
    where: (me) => eq(payments.patientId, me),
  },
  "auditlogs:about-me": {
    table: "audit_logs",
    describe: "events concerning their own record",
    where: (me) => arrayContains(auditLogs.patientIds, [me]),
  },
} as const satisfies Record<string, Policy>;

export type PolicyName = keyof typeof POLICIES;

/** Policies of one table (and `all`), for typing a repository's scope. */
export type PolicyOf<T extends string> = {
  [N in PolicyName]: (typeof POLICIES)[N]["table"] extends T | "*" ? N : never;
}[PolicyName];

const care = alias(appointments, "care");

/**
 * True when the doctor shares an appointment that is not cancelled with the patient in
 * `patientColumn`. Aliased, so it stays correct inside a query that is itself on appointments.
 */
export function underCareOf(doctorId: number, patientColumn: AnyPgColumn | SQL): SQL {
  return sql`exists (select 1 from ${appointments} as ${sql.identifier("care")} where ${care.doctorId} = ${doctorId}
    and ${care.patientId} = ${patientColumn} and ${care.status} <> 'cancelled')`;
}
