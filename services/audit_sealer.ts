/**
 * The sealer: requests insert their audit rows with no lock and no chain columns; this seals them
 * in order, in batches, one instance at a time (a transaction-scoped advisory lock taken without
 * waiting), and publishes a signed checkpoint of the new head in the log. `startAuditSealer` runs
 * it in the background every `intervalMs`; `sealAuditTrail` seals now (tests, tasks).
 */
import { chainHead, sealRows, trySealerLock, unsealedRows } from "../db/audit_chain.ts";
import type { Database } from "../db/client.ts";
import { type Checkpoint, GENESIS, sealedDigest, signCheckpoint } from "./audit_chain.ts";
import type { AuditKeys } from "./audit_key.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";

export interface SealOptions {
  /** Rows per transaction. */
  batchSize?: number;
  clock?: Clock;
  /** Told of each checkpoint after a batch is sealed. */
  logger?: Pick<Logger, "info">;
}

export interface SealResult {
  sealed: number;
  /** The head after sealing, signed (null when nothing was sealed). */
  checkpoint: Checkpoint | null;
  /** False when another instance held the lock (it seals the same rows). */
  ran: boolean;
}

/** Seals every row inserted so far, batch by batch; returns what it did. */
export async function sealAuditTrail(db: Database, keys: AuditKeys, options: SealOptions = {}): Promise<SealResult> {
  const batchSize = options.batchSize ?? 500;
  let sealed = 0;
  let checkpoint: Checkpoint | null = null;
  for (;;) {
    const batch = await db.transaction(async (txn) => {
      const tx = txn as unknown as Database;
      if (!(await trySealerLock(tx))) return null;
      const rows = await unsealedRows(tx, batchSize);
      if (rows.length === 0) return { count: 0, head: null };
      // The head is the last sealed row, whichever digest sealed it (rows chained before 0011 included).
      const head = await chainHead(tx) ?? { seq: 0, hash: GENESIS };
      let seq = head.seq;
      let prev = head.hash;
      const seals = [];
      for (const row of rows) {
        seq += 1;
        const hash = await sealedDigest(keys, prev, row, seq);
        seals.push({ id: row.id, seq, prev, hash });
        prev = hash;
      }
      await sealRows(tx, seals);
      return { count: rows.length, head: { seq, hash: prev } };
    });
    if (batch === null) return { sealed, checkpoint, ran: false };
    if (batch.head) {
      sealed += batch.count;
      checkpoint = await signCheckpoint(keys, batch.head.seq, batch.head.hash, (options.clock ?? (() => new Date()))());
      options.logger?.info("audit checkpoint", {
        chain_seq: checkpoint.chain_seq,
        row_hash: checkpoint.row_hash,
        checkpoint: checkpoint.token,
        sealed: batch.count,
      });
    }
    if (batch.count < batchSize) return { sealed, checkpoint, ran: true };
  }
}

export interface RunningSealer {
  /** Seals now (and waits for a run already under way). */
  sealNow(): Promise<void>;
  /** Stops the timer after one last run, so rows written up to now are sealed. */
  stop(): Promise<void>;
}

/**
 * Seals in the background every `intervalMs` (well within a second of each write), on every
 * instance: the advisory lock lets one of them work at a time. Failures (the database away) are
 * logged once per outage and retried on the next tick.
 */
export function startAuditSealer(
  deps: { db: Database; auditKeys: AuditKeys; logger: Logger; clock: Clock },
  intervalMs = 250,
): RunningSealer {
  let running: Promise<void> | null = null;
  let failing = false;
  let stopped = false;
  const run = () => {
    running ??= sealAuditTrail(deps.db, deps.auditKeys, { clock: deps.clock, logger: deps.logger })
      .then(() => {
        if (failing) deps.logger.info("audit sealer working again");
        failing = false;
      })
      .catch((e) => {
        if (!failing) deps.logger.warn("audit sealer failed; retrying", { error: String(e?.message ?? e) });
        failing = true;
      })
      .finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) run();
  }, intervalMs);
  return {
    async sealNow() {
      await running;
      await run();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await run();
    },
  };
}
