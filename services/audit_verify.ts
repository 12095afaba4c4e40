import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../db/client.ts";

export interface ChainReport {
  ok: boolean;
  rows: number;
  /** The first row (in chain order) whose hash or link does not verify. */
  firstBadRow: { id: number; chain_seq: number | null } | null;
}

/** Recomputes every audit row's hash and link in one pass; names the first that does not verify. */
export async function verifyAuditChain(db: Database): Promise<ChainReport> {
  const [bad] = await queryRows<{ id: number; chain_seq: number | null }>(
    db,
    sql`select id::int as id, chain_seq::int as chain_seq from (
      select a.id, a.chain_seq, a.prev_hash, a.row_hash, audit_log_digest(a) as computed,
             lag(a.row_hash) over (order by a.chain_seq) as previous
      from audit_logs a) x
    where chain_seq is null or row_hash is distinct from computed
       or prev_hash is distinct from coalesce(previous, repeat('0', 64))
    order by chain_seq nulls first, id
    limit 1`,
  );
  const [{ n }] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from audit_logs`);
  return { ok: !bad, rows: Number(n), firstBadRow: bad ? { id: Number(bad.id), chain_seq: bad.chain_seq } : null };
}
