import { and, eq, or, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { RowScope } from "../app_env.ts";
import { appointments } from "./schema.ts";

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
  return sql`exists (select 1 from ${appointments} where ${appointments.doctorId} = ${doctorId}
    and ${appointments.patientId} = ${patientColumn} and ${appointments.status} <> 'cancelled')`;
}

/** Combines a route's own filters with the scope predicate; `and` drops undefined parts. */
export function scoped(scopePredicate: SQL | undefined, ...filters: (SQL | undefined)[]): SQL | undefined {
  return and(scopePredicate, ...filters);
}
