import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import { isConnectionError } from "../db/availability.ts";
import type { Database } from "../db/client.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { claimKey, storeResponse } from "../db/idempotency.ts";
import { inFlight, KeyAlreadyUsed } from "../middleware/idempotency.ts";
import { ProblemError, sqlState } from "../middleware/problem.ts";
import { originOf } from "../middleware/request_context.ts";
import { type AuditAction, type AuditOutcome, recordAudit } from "./audit.ts";

/** What a unit of audited work touched. */
export interface Touched<T> {
  result: T;
  rowIds: (number | string)[];
  patientIds: (number | null | undefined)[];
}

class AuditUnavailable extends Error {}

const READ_ACTIONS: ReadonlySet<AuditAction> = new Set(["read", "list", "download", "export"]);

/**
 * Runs the work of a request that reads or writes health data in one transaction with its
 * audit record: a write and its record commit together or not at all, and when the record of a
 * read cannot be written the caller gets 503 and no data. Refusals (404 for rows outside the
 * caller's scope, 403, 409, 422) are recorded too, as `denied`.
 */
export async function audited<T>(
  c: Context<AppEnv>,
  work: (tx: Database) => Promise<Touched<T>>,
  override: { action?: AuditAction; table?: string; details?: Record<string, unknown>; status?: number } = {},
): Promise<T> {
  const spec = c.get("auditSpec");
  const action = override.action ?? spec?.action;
  const table = override.table ?? spec?.table;
  if (!action || !table) throw new Error(`route ${c.req.routePath} runs audited work without an audit declaration`);
  const { db } = c.get("deps");
  const record = (tx: Pick<Database, "insert">, outcome: AuditOutcome, touched: Omit<Touched<unknown>, "result">) =>
    auditEvent(c, tx, { action, table, outcome, details: override.details, ...touched });
  // A write and its record share one transaction. A read needs none: its record is written after
  // it, and if that fails nothing is returned; skipping BEGIN/COMMIT also keeps the hash chain's
  // lock (held until the record's transaction ends) to the one INSERT statement.
  const run = READ_ACTIONS.has(action)
    ? <R>(fn: (tx: Database) => Promise<R>) => fn(db)
    : <R>(fn: (tx: Database) => Promise<R>) => db.transaction((tx) => fn(tx as unknown as Database));
  try {
    return await run(async (tx) => {
      const claim = READ_ACTIONS.has(action) ? null : await claimRequestKey(c, tx);
      const touched = await work(tx);
      try {
        await record(tx, "success", touched);
      } catch (e) {
        if (isConnectionError(e)) throw e;
        throw new AuditUnavailable(String((e as Error)?.message));
      }
      // An idempotent create's result is its response body, kept with the change it answers.
      if (claim !== null) await storeResponse(tx, claim, override.status ?? 201, touched.result);
      return touched.result;
    });
  } catch (e) {
    if (e instanceof AuditUnavailable || (e as Error)?.cause instanceof AuditUnavailable) {
      c.get("logger").error("audit record could not be written", { request_id: c.get("requestId") });
      throw new ProblemError(503, "audit-unavailable", "The request could not be recorded; try again later");
    }
    if (e instanceof ProblemError && e.status < 500 && !(e instanceof KeyAlreadyUsed)) {
      const id = c.req.param("id");
      await record(db, "denied", { rowIds: id ? [id] : [], patientIds: [] }).catch((failure) => {
        if (isConnectionError(failure)) throw failure;
        throw new ProblemError(503, "audit-unavailable", "The request could not be recorded; try again later");
      });
    }
    throw e;
  }
}

/**
 * Claims the request's Idempotency-Key (when it sent one) inside the transaction of the change:
 * the id of the claim, or null without a key. A key committed first by another request is
 * `KeyAlreadyUsed` (answered with that request's response); one still running past the wait, 409.
 */
export async function claimRequestKey(c: Context<AppEnv>, tx: Database): Promise<number | null> {
  const claim = c.get("idempotency");
  if (!claim) return null;
  const { clock, config } = c.get("deps");
  try {
    const id = await claimKey(tx, { ...claim, now: clock(), waitMs: config.IDEMPOTENCY_WAIT_MS });
    if (id === null) throw new KeyAlreadyUsed();
    return id;
  } catch (e) {
    if (sqlState(e) === "55P03") throw inFlight();
    throw e;
  }
}

export { storeResponse };

async function auditEvent(
  c: Context<AppEnv>,
  db: Pick<Database, "insert">,
  event: {
    action: AuditAction;
    table: string;
    outcome: AuditOutcome;
    rowIds: (number | string)[];
    patientIds: (number | null | undefined)[];
    details?: Record<string, unknown>;
  },
) {
  const principal = principalOf(c);
  const patients = [...new Set(event.patientIds.filter((p): p is number => typeof p === "number"))];
  await recordAudit(db, originOf(c), {
    userId: principal.userId,
    role: principal.roles.join(","),
    action: event.action,
    outcome: event.outcome,
    targetTable: event.table,
    targetId: event.rowIds.length === 1 ? event.rowIds[0] : null,
    patientId: patients.length === 1 ? patients[0] : null,
    patientIds: patients,
    details: {
      method: c.req.method,
      route: c.req.routePath,
      ...(event.rowIds.length > 1 ? { row_ids: event.rowIds } : {}),
      ...(event.rowIds.length === 0 ? { rows: 0 } : {}),
      ...event.details,
    },
  }, c.get("deps").clock());
}
