/**
 * The audit chain's storage: rows as the text their digest is computed over, the unsealed tail,
 * and the one statement that seals a batch. The digests themselves are computed in the app
 * (services/audit_chain.ts) with a key the database never sees.
 */
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "./client.ts";

/** One audit row, every column as the text Postgres writes it (what the digests cover). */
export interface ChainRow {
  id: string;
  user_id: string | null;
  role: string | null;
  action: string;
  target_table: string | null;
  target_id: string | null;
  patient_id: string | null;
  patient_ids: string;
  ip_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  client_request_id: string | null;
  outcome: string;
  event_at: string;
  details: string;
  appended: boolean;
  chain_seq: string | null;
  prev_hash: string | null;
  row_hash: string | null;
}

const COLUMNS = sql.raw(`id::text as id, user_id::text as user_id, role, action, target_table, target_id,
  patient_id::text as patient_id, patient_ids::text as patient_ids, ip_address, user_agent, request_id,
  client_request_id, outcome, to_char(event_timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as event_at,
  details::text as details, appended, chain_seq::text as chain_seq, prev_hash, row_hash`);

/** The key of the transaction-scoped advisory lock only one sealer holds at a time. */
const SEALER_LOCK = 7274846002;

/**
 * Takes the sealer's lock for the rest of the transaction, without waiting: false when another
 * instance is sealing (it will seal these rows too).
 */
export async function trySealerLock(tx: Database): Promise<boolean> {
  const [row] = await queryRows<{ locked: boolean }>(
    tx,
    sql`select pg_try_advisory_xact_lock(${SEALER_LOCK}) as locked`,
  );
  return row.locked === true;
}

/** The last sealed position and its hash (null on an empty chain). */
export async function chainHead(db: Database): Promise<{ seq: number; hash: string } | null> {
  const [row] = await queryRows<{ seq: string; hash: string }>(
    db,
    sql`select chain_seq::text as seq, row_hash as hash from audit_logs where chain_seq is not null
      order by chain_seq desc limit 1`,
  );
  return row ? { seq: Number(row.seq), hash: row.hash } : null;
}

/** Up to `limit` unsealed rows, oldest id first. */
export function unsealedRows(db: Database, limit: number): Promise<ChainRow[]> {
  return queryRows<ChainRow>(
    db,
    // Ordered by the columns, not the text aliases of the same names.
    sql`select ${COLUMNS} from audit_logs a where a.chain_seq is null order by a.id limit ${limit}`,
  );
}

/** Sets the chain columns of unsealed rows, in one statement (the trigger lets it happen once per row). */
export async function sealRows(
  tx: Database,
  seals: { id: string; seq: number; prev: string; hash: string }[],
): Promise<void> {
  if (seals.length === 0) return;
  const values = sql.join(
    seals.map((s) => sql`(${s.id}::bigint, ${s.seq}::bigint, ${s.prev}::char(64), ${s.hash}::char(64))`),
    sql`, `,
  );
  await tx.execute(sql`update audit_logs as a set chain_seq = v.seq, prev_hash = v.prev, row_hash = v.hash
    from (values ${values}) as v(id, seq, prev, hash) where a.id = v.id and a.chain_seq is null`);
}

/** One page of the sealed chain after position `after`, in chain order. */
export function chainPage(db: Database, after: number, limit: number): Promise<ChainRow[]> {
  return queryRows<ChainRow>(
    db,
    sql`select ${COLUMNS} from audit_logs a where a.chain_seq > ${after} order by a.chain_seq limit ${limit}`,
  );
}

/** How many rows wait for the sealer, and the oldest of them. */
export async function unsealedTail(
  db: Database,
): Promise<{ count: number; oldestId: number | null; oldestAt: string | null }> {
  const [row] = await queryRows<{ count: string; oldest_id: string | null; oldest_at: string | null }>(
    db,
    sql`select count(*)::text as count, min(id)::text as oldest_id,
      to_char(min(event_timestamp) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as oldest_at
      from audit_logs where chain_seq is null`,
  );
  return {
    count: Number(row.count),
    oldestId: row.oldest_id === null ? null : Number(row.oldest_id),
    oldestAt: row.oldest_at,
  };
}

/** The last position chained with the old unkeyed SHA-256 digest (0 when none was). */
export async function legacyBoundary(db: Database): Promise<number> {
  const [row] = await queryRows<{ last_seq: string }>(
    db,
    sql`select last_seq::text as last_seq from audit_chain_legacy`,
  );
  return row ? Number(row.last_seq) : 0;
}
