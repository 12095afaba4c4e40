/** Audit rows written straight into the trail, for tests that need a history to search. */
import { type AuditAction, type AuditOutcome, insertAuditRecord, type RequestOrigin } from "../db/audit_logs.ts";
import type { Database } from "../db/client.ts";

export interface SeedEvent {
  userId?: number | null;
  role?: string | null;
  action: AuditAction;
  outcome: AuditOutcome;
  targetTable?: string | null;
  targetId?: string | number | null;
  patientId?: number | null;
  patientIds?: number[];
  details?: Record<string, unknown>;
}

export function seedAudit(db: Database, origin: RequestOrigin, event: SeedEvent, at = new Date()) {
  return insertAuditRecord(db, origin, {
    userId: event.userId ?? null,
    role: event.role ?? null,
    action: event.action,
    outcome: event.outcome,
    targetTable: event.targetTable ?? null,
    targetId: event.targetId == null ? null : String(event.targetId),
    patientIds: event.patientIds ?? (event.patientId ? [event.patientId] : []),
    details: event.details ?? {},
    at,
  });
}
