import { and, arrayContains, eq, getTableColumns, gte, lt, type SQL, sql } from "drizzle-orm";
import { type AnyPgColumn, customType, pgTable } from "drizzle-orm/pg-core";
import { Malformed } from "../errors.ts";
import type { Database } from "./client.ts";
import { preparedFor } from "./prepared.ts";
import type { PolicyOf } from "./policies.ts";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, auditLogs, doctorProfiles, patientProfiles, users } from "./schema.ts";
import { inScopeRow, restrict, type Scope } from "./scope.ts";

export { AUDIT_ACTIONS, AUDIT_OUTCOMES };
export type AuditAction = typeof AUDIT_ACTIONS[number];
export type AuditOutcome = typeof AUDIT_OUTCOMES[number];

/** Where a request came from, as recorded with each audit event. */
export interface RequestOrigin {
  ipAddress: string | null;
  userAgent: string | null;
  /** The server's own id of the request (a UUID). */
  requestId: string | null;
  /** The client's X-Request-Id, when well-formed; kept, never trusted as the record's id. */
  clientRequestId?: string | null;
}

/** Longest user agent kept (characters), in sessions and audit records alike. */
export const USER_AGENT_MAX = 500;

/** One audit record as the unit of work writes it (the chain columns are set later, by the sealer). */
export interface AuditRecord {
  userId: number | null;
  role: string | null;
  action: AuditAction | string;
  outcome: AuditOutcome;
  targetTable: string | null;
  targetId: string | null;
  patientIds: number[];
  details: Record<string, unknown>;
  /** Appended by a user, not recorded by the system. */
  appended?: boolean;
  at: Date;
}

/** The insert every request makes, built once per database (an insert's placeholders go through their columns' encoders). */
const insertAudit = preparedFor((db) =>
  db.insert(auditLogs).values({
    userId: sql.placeholder("userId"),
    role: sql.placeholder("role"),
    action: sql.placeholder("action"),
    outcome: sql.placeholder("outcome"),
    targetTable: sql.placeholder("targetTable"),
    targetId: sql.placeholder("targetId"),
    patientId: sql.placeholder("patientId"),
    patientIds: sql.placeholder("patientIds"),
    ipAddress: sql.placeholder("ipAddress"),
    userAgent: sql.placeholder("userAgent"),
    requestId: sql.placeholder("requestId"),
    clientRequestId: sql.placeholder("clientRequestId"),
    details: sql.placeholder("details"),
    appended: sql.placeholder("appended"),
    eventTimestamp: sql.placeholder("eventTimestamp"),
  }).returning().prepare("insert_audit_record")
);

/**
 * Appends one audit record and returns it. Only the unit of work calls this: pass the
 * transaction of the change so both commit or neither does.
 */
export async function insertAuditRecord(
  db: Database,
  origin: RequestOrigin,
  record: AuditRecord,
): Promise<AuditLogRow> {
  const [row] = await insertAudit(db).execute({
    userId: record.userId,
    role: record.role,
    action: record.action,
    outcome: record.outcome,
    targetTable: record.targetTable,
    targetId: record.targetId,
    patientId: record.patientIds.length === 1 ? record.patientIds[0] : null,
    patientIds: record.patientIds,
    ipAddress: origin.ipAddress,
    userAgent: origin.userAgent === null ? null : [...origin.userAgent].slice(0, USER_AGENT_MAX).join(""),
    requestId: origin.requestId,
    clientRequestId: origin.clientRequestId ?? null,
    details: record.details,
    appended: record.appended ?? false,
    eventTimestamp: record.at,
  });
  return row;
}

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
  throw new Malformed("invalid-cursor", "The cursor is invalid or was made for another ordering", [
    { parameter: "cursor", detail: "Use the next or previous link of a page" },
  ]);
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

/** Orderings of audit lists; a row carries `eventAt`, its timestamp as exact text. */
export const AUDIT_LOG_ORDERINGS = {
  event_timestamp: { column: cursorColumns.eventTimestamp, value: (r: { eventAt: string }) => r.eventAt },
  id: { column: cursorColumns.id, value: (r: { id: number }) => r.id },
};
/** The tie-breaker column for keyset pages. */
export const AUDIT_LOG_ID = { column: auditLogs.id, value: (r: { id: number }) => r.id };

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
  scope: Scope<PolicyOf<"audit_logs">>,
  filters: AuditLogFilters,
  page: { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<AuditLogListRow[]> {
  return db.select({ ...getTableColumns(auditLogs), eventAt }).from(auditLogs)
    .where(and(restrict(scope), filtersWhere(filters), page.where))
    .orderBy(...page.orderBy)
    .limit(page.limit);
}

export async function findAuditLog(db: Database, scope: Scope<PolicyOf<"audit_logs">>, id: number) {
  const [row] = await db.select().from(auditLogs).where(and(eq(auditLogs.id, id), restrict(scope)));
  return inScopeRow(row);
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
  scope: Scope<PolicyOf<"audit_logs">>,
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
    .where(and(restrict(scope), page.where))
    .orderBy(...page.orderBy)
    .limit(page.limit);
}
