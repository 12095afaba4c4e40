import type { Database } from "../db/client.ts";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, auditLogs } from "../db/schema.ts";

export type AuditAction = typeof AUDIT_ACTIONS[number];
export type AuditOutcome = typeof AUDIT_OUTCOMES[number];

/** Where a request came from, as recorded with each audit event. */
export interface RequestOrigin {
  ipAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface AuditEvent {
  userId?: number | null;
  role?: string | null;
  action: AuditAction;
  outcome: AuditOutcome;
  targetTable?: string | null;
  targetId?: string | number | null;
  patientId?: number | null;
  /** Every patient the event concerns (a list can touch many). */
  patientIds?: number[];
  details?: Record<string, unknown>;
}

type Executor = Pick<Database, "insert">;

/**
 * Appends one audit record and returns it (chain position and hash set by the trigger); pass the
 * transaction of the change so both commit or neither does.
 */
export async function recordAudit(
  db: Executor,
  origin: RequestOrigin,
  event: AuditEvent,
  at?: Date,
): Promise<typeof auditLogs.$inferSelect> {
  const [row] = await db.insert(auditLogs).values({
    userId: event.userId ?? null,
    role: event.role ?? null,
    action: event.action,
    outcome: event.outcome,
    targetTable: event.targetTable ?? null,
    targetId: event.targetId == null ? null : String(event.targetId),
    patientId: event.patientId ?? null,
    patientIds: event.patientIds ?? (event.patientId ? [event.patientId] : []),
    ipAddress: origin.ipAddress,
    userAgent: origin.userAgent?.slice(0, 500) ?? null,
    requestId: origin.requestId,
    details: event.details ?? {},
    ...(at ? { eventTimestamp: at } : {}),
  }).returning();
  return row;
}
