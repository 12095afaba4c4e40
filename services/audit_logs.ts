/**
 * The audit trail: read, searched and verified by holders of `auditlogs:read` (each of those reads
 * is itself recorded), and appended to by holders of `auditlogs:write`. Nothing edits or deletes it.
 */
import {
  AUDIT_ACTIONS,
  AUDIT_LOG_ID,
  AUDIT_LOG_ORDERINGS,
  type AuditAction,
  type AuditLogFilters,
  type AuditLogListRow,
  type AuditLogRow,
  type AuditOutcome,
  findAuditLog,
  isPatient,
  listAuditLogs,
} from "../db/audit_logs.ts";
import { invalid, Malformed, NotAllowed, NotFound } from "../errors.ts";
import { BadCheckpoint, verifyAuditChain } from "./audit_verify.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";

export type { AuditAction, AuditLogListRow, AuditLogRow, AuditOutcome };
export { AUDIT_ACTIONS, AUDIT_OUTCOMES } from "../db/audit_logs.ts";

export function listEvents(
  ctx: ServiceContext,
  filters: AuditLogFilters,
  page: PageRequest,
  details: Record<string, unknown>,
): Promise<Slice<AuditLogListRow>> {
  const scope = scopeOf(ctx, "audit_logs");
  const pager = keyset<AuditLogListRow>(page, AUDIT_LOG_ORDERINGS, AUDIT_LOG_ID, ctx.deps.tokens.keys.cursorKey);
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await listAuditLogs(db, scope, filters, pager));
    // Searching one patient's history is a look at that patient: it shows in their access log.
    return { result: slice, rowIds: slice.rows.map((r) => r.id), patientIds: [filters.patient] };
  }, { details: { filters: details } });
}

export function readEvent(ctx: ServiceContext, id: number): Promise<AuditLogRow> {
  const scope = scopeOf(ctx, "audit_logs");
  return ctx.uow.read(async (db) => {
    const found = await findAuditLog(db, scope, id);
    if (!found) throw new NotFound();
    return { result: found, rowIds: [id] };
  });
}

/** Verifies the chain in pages with the key from the environment; compared with `checkpoint` when given. */
export function verifyTrail(ctx: ServiceContext, checkpoint?: string) {
  return ctx.uow.read(async (db) => {
    try {
      return { result: await verifyAuditChain(db, ctx.deps.auditKeys, { checkpoint, now: ctx.now }) };
    } catch (e) {
      if (!(e instanceof BadCheckpoint)) throw e;
      throw new Malformed("invalid-checkpoint", "The checkpoint is malformed or not signed by this server", [
        { parameter: "checkpoint", detail: "Give a checkpoint token as published in the log or by this route" },
      ]);
    }
  });
}

export interface AppendedEvent {
  action: string;
  targetTable?: string;
  targetId?: string | number;
  patient?: number;
  details?: Record<string, unknown> | string;
}

/**
 * An event a user appends: any lowercase action word that is not one of the system's (those are
 * recorded only by the system, never forged), with the caller as `user`, flagged as appended.
 */
export async function appendEvent(ctx: ServiceContext, event: AppendedEvent): Promise<AuditLogRow> {
  const actor = actorOf(ctx);
  return await ctx.uow.check(async () => {
    if ((AUDIT_ACTIONS as readonly string[]).includes(event.action)) {
      throw invalid("/action", "A system action is recorded by the system; name the event in your own words");
    }
    if (event.patient !== undefined && !(await isPatient(ctx.deps.db, event.patient))) {
      throw invalid("/patient", "No patient with this id");
    }
    const details = typeof event.details === "string" ? { text: event.details } : event.details;
    return await ctx.uow.append({
      userId: actor.userId,
      role: actor.roles.join(","),
      action: event.action,
      outcome: "success",
      targetTable: event.targetTable ?? null,
      targetId: event.targetId ?? null,
      patientIds: event.patient === undefined ? [] : [event.patient],
      details,
    });
  }, { action: "create", table: "audit_logs" });
}

/** PUT, PATCH and DELETE: refused for everyone (the trail is append-only), and the attempt recorded. */
export function refuseChange(ctx: ServiceContext): Promise<never> {
  return ctx.uow.check(() => Promise.reject(new NotAllowed("The audit trail is append-only", ["GET"])));
}
