import { and, arrayContains, eq, getTableColumns, gte, lt, type SQL, sql } from "drizzle-orm";
import { type AnyPgColumn, customType, pgTable } from "drizzle-orm/pg-core";
import type { RowScope } from "../app_env.ts";
import { ProblemError } from "../middleware/problem.ts";
import type { AuditAction, AuditOutcome } from "../services/audit.ts";
import type { Database } from "./client.ts";
import { selfScope } from "./scoped.ts";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, auditLogs, doctorProfiles, patientProfiles, users } from "./schema.ts";

export { AUDIT_ACTIONS, AUDIT_OUTCOMES };

export type AuditLogRow = typeof auditLogs.$inferSelect;
/** A row plus its timestamp as text with microseconds, the value its keyset cursor carries. */
export type AuditLogListRow = AuditLogRow & { eventAt: string };

/**
 * The cursor-facing twins of two audit_logs columns. Postgres keeps microseconds but a JS Date
 * keeps milliseconds, so a cursor made from a Date would repeat or skip rows written within the
 * same millisecond (rows stamped by `now()` have microseconds); these carry the exact text
 * instead. They also check what a client-supplied cursor holds before it reaches SQL.
 */
const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const cursorValue = <T>(valid: (v: unknown) => boolean) => (value: T): T => {
  if (valid(value)) return value;
  throw new ProblemError(400, "invalid-cursor", "The cursor is invalid or was made for another ordering", {
    errors: [{ parameter: "cursor", detail: "Use the next or previous link of a page" }],
  });
};
const cursorColumns = pgTable("audit_logs", {
  id: customType<{ data: number; driverData: number }>({
    dataType: () => "bigint",
    toDriver: cursorValue((v) => Number.isSafeInteger(v)),
  })("id"),
  eventTimestamp: customType<{ data: string; driverData: string }>({
    dataType: () => "timestamp with time zone",
    toDriver: cursorValue((v) => typeof v === "string" && ISO_MICROS.test(v)),
  })("event_timestamp"),
});

export const AUDIT_LOG_ORDERINGS = { event_timestamp: cursorColumns.eventTimestamp, id: cursorColumns.id } as const;
/** The tie-breaker column for keyset pages. */
export const AUDIT_LOG_ID = auditLogs.id;

const eventAt = sql<string>`to_char(${auditLogs.eventTimestamp} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface AuditLogFilters {
  user?: number;
  patient?: number;
  targetTable?: string;
  targetId?: string;
  action?: AuditAction;
  outcome?: AuditOutcome;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

function filtersWhere(f: AuditLogFilters): SQL | undefined {
  return and(
    f.user === undefined ? undefined : eq(auditLogs.userId, f.user),
    f.patient === undefined ? undefined : arrayContains(auditLogs.patientIds, [f.patient]),
    f.targetTable === undefined ? undefined : eq(auditLogs.targetTable, f.targetTable),
    f.targetId === undefined ? undefined : eq(auditLogs.targetId, f.targetId),
    f.action === undefined ? undefined : eq(auditLogs.action, f.action),
    f.outcome === undefined ? undefined : eq(auditLogs.outcome, f.outcome),
    f.from === undefined ? undefined : gte(auditLogs.eventTimestamp, f.from),
    f.to === undefined ? undefined : lt(auditLogs.eventTimestamp, f.to),
  );
}

/** A page of audit events matching the filters, one query. */
export function listAuditLogs(
  db: Database,
  scope: RowScope | undefined,
  filters: AuditLogFilters,
  page: { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<AuditLogListRow[]> {
  return db.select({ ...getTableColumns(auditLogs), eventAt }).from(auditLogs)
    .where(and(selfScope(scope, auditLogs.userId), filtersWhere(filters), page.where))
    .orderBy(...page.orderBy)
    .limit(page.limit);
}

export async function findAuditLog(
  db: Database,
  scope: RowScope | undefined,
  id: number,
): Promise<AuditLogRow | undefined> {
  const [row] = await db.select().from(auditLogs).where(and(eq(auditLogs.id, id), selfScope(scope, auditLogs.userId)));
  return row;
}

/** True when the user has a patient profile (audit events may name only real patients). */
export async function isPatient(db: Database, userId: number): Promise<boolean> {
  const rows = await db.select({ id: patientProfiles.userId }).from(patientProfiles)
    .where(eq(patientProfiles.userId, userId));
  return rows.length > 0;
}

export interface AccessLogRow {
  id: number;
  eventAt: string;
  eventTimestamp: Date;
  userId: number | null;
  role: string | null;
  name: string | null;
  action: string;
  targetTable: string | null;
  outcome: string;
}

/**
 * The events that concern one patient, with each actor's display name (doctor or patient
 * profile name, else username), in one query whatever the page size.
 */
export function listAccessLog(
  db: Database,
  patientId: number,
  page: { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<AccessLogRow[]> {
  const fullName = (first: AnyPgColumn, last: AnyPgColumn) => sql`nullif(btrim(concat_ws(' ', ${first}, ${last})), '')`;
  return db.select({
    id: auditLogs.id,
    eventAt,
    eventTimestamp: auditLogs.eventTimestamp,
    userId: auditLogs.userId,
    role: auditLogs.role,
    name: sql<string | null>`coalesce(${fullName(doctorProfiles.firstName, doctorProfiles.lastName)}, ${
      fullName(patientProfiles.firstName, patientProfiles.lastName)
    }, ${users.username})`,
    action: auditLogs.action,
    targetTable: auditLogs.targetTable,
    outcome: auditLogs.outcome,
  }).from(auditLogs)
    .leftJoin(users, eq(users.id, auditLogs.userId))
    .leftJoin(doctorProfiles, eq(doctorProfiles.userId, auditLogs.userId))
    .leftJoin(patientProfiles, eq(patientProfiles.userId, auditLogs.userId))
    .where(and(arrayContains(auditLogs.patientIds, [patientId]), page.where))
    .orderBy(...page.orderBy)
    .limit(page.limit);
}
