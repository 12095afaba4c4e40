/**
 * The unit of work: every operation on health data or accounts runs through one. A write gets a
 * transaction that also holds its audit record, its outbox events, its integration-log entries
 * and its Idempotency-Key claim, so all of them commit with the change or none does. A read is
 * recorded right after it. A refusal is recorded as `denied`, a bug as `error`, always with the
 * ids as parsed, never as typed. When the record cannot be written the answer is 503
 * `audit-unavailable` with no data, on every route alike.
 */
import {
  type AuditAction,
  type AuditLogRow,
  type AuditOutcome,
  type AuditRecord,
  insertAuditRecord,
  type RequestOrigin,
} from "../db/audit_logs.ts";
import { isConnectionError } from "../db/availability.ts";
import type { Database } from "../db/client.ts";
import { domainErrorOf } from "../db/errors.ts";
import { insertIntegrationLog, type IntegrationLogEntry } from "../db/integration_logs.ts";
import { auditUnavailable, DomainError } from "../errors.ts";
import type { Clock } from "./clock.ts";
import { type Effects, effectsOf } from "./effects.ts";
import { claimRequestKey, type IdempotencyClaim, keepResponse, KeyAlreadyUsed } from "./idempotency.ts";
import type { Logger } from "./logger.ts";
import type { Principal } from "./sessions.ts";

export type { Effects };

export interface AuditTarget {
  action: AuditAction;
  table: string;
}

/** What a piece of work touched, for its audit record. */
export interface Touched<T> {
  result: T;
  /** One id is the record's `target_id`; several go to `details.row_ids`. */
  rowIds?: (number | string)[];
  /** Every patient whose record was read or written. */
  patientIds?: (number | null | undefined)[];
  details?: Record<string, unknown>;
}

export interface StandaloneEvent {
  /** A system action, or (appended events) any lowercase word that is not one. */
  action: AuditAction | string;
  outcome: AuditOutcome;
  /** Who the event is about, when not the caller (sign-in events have no caller yet). */
  userId?: number | null;
  role?: string | null;
  targetTable?: string | null;
  targetId?: number | string | null;
  patientIds?: number[];
  details?: Record<string, unknown>;
}

export interface UnitOfWork {
  /** A read: `work` runs, then its record is written; no data leaves if the record cannot be. */
  read<T>(work: (db: Database) => Promise<Touched<T>>, options?: WorkOptions): Promise<T>;
  /** A write: one transaction for the change and everything that must commit with it. */
  write<T>(work: (tx: Database, effects: Effects) => Promise<Touched<T>>, options?: WorkOptions): Promise<T>;
  /** An event that is not a read or write of a row (sign-in, a refused attempt). */
  record(event: StandaloneEvent, tx?: Database): Promise<void>;
  /**
   * An event a user appends to the trail (`POST /auditlogs/`): the record is the change itself, so
   * it is written once, with the request's Idempotency-Key claim, and returned.
   */
  append(event: StandaloneEvent): Promise<AuditLogRow>;
  /**
   * Checks made before the work (slow or throttled ones that must not run in its transaction,
   * like a password verification): a refusal is recorded as `denied` all the same.
   */
  check<T>(checks: () => Promise<T>, options?: WorkOptions): Promise<T>;
}

export interface WorkOptions {
  action?: AuditAction;
  table?: string;
  details?: Record<string, unknown>;
}

export interface UnitOfWorkOptions {
  db: Database;
  actor: Principal | null;
  origin: RequestOrigin;
  clock: Clock;
  logger: Logger;
  /** What the route records (its declaration); a call may override it. */
  audit?: AuditTarget;
  /** The row id the request names, as parsed. */
  targetId?: number | string;
  /** The method and route pattern, kept in each record's details. */
  request?: { method: string; route: string };
  /** The request's Idempotency-Key, and how to turn the result into the response kept with it. */
  idempotency?: { claim: IdempotencyClaim; waitMs: number; respond?: (result: unknown) => unknown; status?: number };
  /** Which front end the request came through, when not the API (`console`): `details.via`. */
  via?: string;
  /** Told each time a record is written (the request's last line of audit checks whether it was). */
  onRecorded?: () => void;
}

export function unitOfWork(o: UnitOfWorkOptions): UnitOfWork {
  const target = (options: WorkOptions = {}): AuditTarget => {
    const action = options.action ?? o.audit?.action;
    const table = options.table ?? o.audit?.table;
    if (!action || !table) throw new Error(`${o.request?.route ?? "work"} records nothing: no audit declaration`);
    return { action, table };
  };
  const write = async (db: Database, record: Omit<AuditRecord, "at">) => {
    try {
      const row = await insertAuditRecord(db, o.origin, { ...record, at: o.clock() });
      o.onRecorded?.();
      return row;
    } catch (e) {
      if (isConnectionError(e)) throw domainErrorOf(e);
      o.logger.error("audit record could not be written", { request_id: o.origin.requestId });
      throw auditUnavailable();
    }
  };
  const recordOf = (
    t: AuditTarget,
    outcome: AuditOutcome,
    touched: Omit<Touched<unknown>, "result">,
    extra: Record<string, unknown> = {},
  ): Omit<AuditRecord, "at"> => {
    const rowIds = touched.rowIds ?? [];
    const patients = [...new Set((touched.patientIds ?? []).filter((p): p is number => typeof p === "number"))];
    return {
      userId: o.actor?.userId ?? null,
      role: o.actor ? o.actor.roles.join(",") : null,
      action: t.action,
      outcome,
      targetTable: t.table,
      targetId: rowIds.length === 1 ? String(rowIds[0]) : null,
      patientIds: patients,
      details: {
        ...o.request,
        ...(o.via ? { via: o.via } : {}),
        ...(rowIds.length > 1 ? { row_ids: rowIds } : {}),
        ...(rowIds.length === 0 ? { rows: 0 } : {}),
        ...touched.details,
        ...extra,
      },
    };
  };
  /**
   * A transaction that claims the request's Idempotency-Key first and keeps the response made of
   * its result last, so key, change and answer commit together.
   */
  const keyed = <T>(change: (db: Database) => Promise<T>): Promise<T> =>
    o.db.transaction(async (tx) => {
      const db = tx as unknown as Database;
      const key = o.idempotency;
      const claim = key ? await claimRequestKey(db, key.claim, o.clock(), key.waitMs) : null;
      const result = await change(db);
      if (claim !== null) {
        await keepResponse(db, claim, key!.status ?? 201, key!.respond ? key!.respond(result) : result);
      }
      return result;
    });
  const standalone = (event: StandaloneEvent): Omit<AuditRecord, "at"> => ({
    userId: event.userId === undefined ? o.actor?.userId ?? null : event.userId,
    role: event.role ?? (event.userId === undefined && o.actor ? o.actor.roles.join(",") : null),
    action: event.action,
    outcome: event.outcome,
    targetTable: event.targetTable ?? null,
    targetId: event.targetId == null ? null : String(event.targetId),
    patientIds: event.patientIds ?? [],
    details: { ...o.request, ...(o.via ? { via: o.via } : {}), ...event.details },
  });
  /** Failures already recorded (an append inside a check fails once, and is recorded once). */
  const recorded = new WeakSet<object>();
  /** A failure of the work: refusals are `denied`, bugs `error`; the record is written outside the rolled-back work. */
  const failed = async (e: unknown, t: AuditTarget, options: WorkOptions): Promise<never> => {
    const error = e instanceof DomainError ? e : domainErrorOf(e) ?? e;
    if (error instanceof KeyAlreadyUsed) throw error;
    if (typeof error === "object" && error !== null) {
      if (recorded.has(error)) throw error;
      recorded.add(error);
    }
    const refusal = error instanceof DomainError;
    if (refusal && error.kind === "unavailable") throw error;
    const rowIds = o.targetId === undefined ? [] : [o.targetId];
    const outcome = refusal ? "denied" : "error";
    const reason = refusal ? { reason: error.slug } : { reason: "internal" };
    await write(o.db, recordOf(t, outcome, { rowIds, details: options.details }, reason)).catch((failure) => {
      if (refusal) throw failure;
    });
    throw error;
  };
  return {
    async read(work, options = {}) {
      const t = target(options);
      let touched;
      try {
        touched = await work(o.db);
      } catch (e) {
        return await failed(e, t, options);
      }
      await write(o.db, recordOf(t, "success", { ...touched, details: { ...options.details, ...touched.details } }));
      return touched.result;
    },
    async write(work, options = {}) {
      const t = target(options);
      const logged: IntegrationLogEntry[] = [];
      try {
        return await keyed(async (db) => {
          const touched = await work(db, effectsOf(db, o.clock(), logged));
          await write(db, recordOf(t, "success", { ...touched, details: { ...options.details, ...touched.details } }));
          return touched.result;
        });
      } catch (e) {
        // An exchange with an outside system happened whatever became of the change: its entry stays.
        if (logged.length && !isConnectionError(e)) {
          const now = o.clock();
          await Promise.all(logged.map((entry) => insertIntegrationLog(o.db, entry, now))).catch(() => {});
        }
        return await failed(e, t, options);
      }
    },
    async record(event, tx) {
      await write(tx ?? o.db, standalone(event));
    },
    async append(event) {
      try {
        return await keyed((db) => write(db, { ...standalone(event), appended: true }));
      } catch (e) {
        return await failed(e, { action: "create", table: "audit_logs" }, {});
      }
    },
    async check(checks, options = {}) {
      try {
        return await checks();
      } catch (e) {
        return await failed(e, target(options), options);
      }
    },
  };
}
