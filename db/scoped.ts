import { and, eq, or, type SQL, sql } from "drizzle-orm";
import { alias, type AnyPgColumn } from "drizzle-orm/pg-core";
import type { RowScope } from "../app_env.ts";
import type { Database } from "./client.ts";
import { appointments, users } from "./schema.ts";

/**
 * The ownership predicate for health data, added to every list, read, update, delete and
 * download: the caller's own records, or those of a patient under their care (a shared
 * appointment that is not cancelled). `undefined` means every row (`…:any` permissions).
 */
export function patientScope(scope: RowScope | undefined, patientColumn: AnyPgColumn): SQL | undefined {
  if (!scope) return sql`false`;
  switch (scope.kind) {
    case "any":
      return undefined;
    case "self":
      return eq(patientColumn, scope.userId);
    case "patient":
      return or(eq(patientColumn, scope.userId), underCareOf(scope.userId, patientColumn));
  }
}

/** Rows that belong to the caller (their own account, notifications, …). */
export function selfScope(scope: RowScope | undefined, ownerColumn: AnyPgColumn): SQL | undefined {
  if (!scope) return sql`false`;
  return scope.kind === "any" ? undefined : eq(ownerColumn, scope.userId);
}

/** True when the doctor shares a live appointment with the patient in `patientColumn`. */
export function underCareOf(doctorId: number, patientColumn: AnyPgColumn | SQL): SQL {
  // Aliased, so the predicate stays correct when the outer query is itself on appointments.
  return sql`exists (select 1 from ${appointments} as ${sql.identifier("care")} where ${care.doctorId} = ${doctorId}
    and ${care.patientId} = ${patientColumn} and ${care.status} <> 'cancelled')`;
}

const care = alias(appointments, "care");

/** Combines a route's own filters with the scope predicate; `and` drops undefined parts. */
export function scoped(scopePredicate: SQL | undefined, ...filters: (SQL | undefined)[]): SQL | undefined {
  return and(scopePredicate, ...filters);
}

/** True when the doctor shares a live appointment with this patient. */
export async function isUnderCare(db: Database, doctorId: number, patientId: number): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users)
    .where(and(eq(users.id, patientId), underCareOf(doctorId, users.id)));
  return row !== undefined;
}
