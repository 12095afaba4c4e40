/**
 * Verifies the audit chain page by page (one short query per page, so it never holds a connection
 * for the whole table), with the key from outside the database: each sealed row's position, link
 * and digest, then the unsealed tail apart (rows the sealer has not reached are not a break), and,
 * when given a checkpoint published earlier, that the chain still reaches it with the same hash
 * (rows cut off the end are noticed only that way).
 */
import { chainPage, type ChainRow, legacyBoundary, unsealedTail } from "../db/audit_chain.ts";
import type { Database } from "../db/client.ts";
import { type Checkpoint, GENESIS, legacyDigest, readCheckpoint, sealedDigest, signCheckpoint } from "./audit_chain.ts";
import type { AuditKeys } from "./audit_key.ts";

export interface ChainReport {
  /** The sealed chain verifies, and reaches the given checkpoint unchanged. */
  ok: boolean;
  /** Every row, sealed or not. */
  rows: number;
  sealed: number;
  /** Rows chained before migration 0011, verified by the old unkeyed digest. */
  legacyRows: number;
  /** Rows the sealer has not reached yet: reported, not a break. */
  unsealed: { count: number; oldestId: number | null; oldestAt: string | null };
  /** The first row (in chain order) whose position, link or hash does not verify. */
  firstBadRow: { id: number; chain_seq: number | null } | null;
  /** The head of the verified chain, signed (null when the chain is broken or empty). */
  checkpoint: Checkpoint | null;
  /** The comparison with a checkpoint the caller kept, when one was given. */
  against: { chain_seq: number; ok: boolean; problem: "truncated" | "rewritten" | null } | null;
}

/** Thrown for a checkpoint that is malformed or not signed with this key. */
export class BadCheckpoint extends Error {}

export interface VerifyOptions {
  pageSize?: number;
  /** A checkpoint token published earlier (log line or an earlier verification). */
  checkpoint?: string;
  now?: Date;
}

export async function verifyAuditChain(
  db: Database,
  keys: AuditKeys,
  options: VerifyOptions = {},
): Promise<ChainReport> {
  const pageSize = options.pageSize ?? 1000;
  const kept = options.checkpoint === undefined ? null : await readCheckpoint(keys, options.checkpoint);
  if (options.checkpoint !== undefined && !kept) throw new BadCheckpoint("The checkpoint is malformed or not signed");
  const boundary = await legacyBoundary(db);
  let prev = GENESIS;
  let seq = 0;
  let firstBad: ChainReport["firstBadRow"] = null;
  let keptHash: string | null = null;
  for (let after = 0; !firstBad;) {
    const page = await chainPage(db, after, pageSize);
    for (const row of page) {
      const position = Number(row.chain_seq);
      if (
        position !== seq + 1 || row.prev_hash !== prev || (await digestOf(keys, row, prev, boundary)) !== row.row_hash
      ) {
        firstBad = { id: Number(row.id), chain_seq: position };
        break;
      }
      if (position === kept?.chain_seq) keptHash = row.row_hash;
      seq = position;
      prev = row.row_hash!;
    }
    if (page.length < pageSize) break;
    after = Number(page[page.length - 1].chain_seq);
  }
  const unsealed = await unsealedTail(db);
  const sealedRows = firstBad ? (await countSealed(db, pageSize, seq)) : seq;
  const against = kept && {
    chain_seq: kept.chain_seq,
    ok: keptHash === kept.row_hash,
    problem: keptHash === kept.row_hash
      ? null
      : (firstBad === null && seq < kept.chain_seq ? "truncated" as const : "rewritten" as const),
  };
  const ok = firstBad === null && (against?.ok ?? true);
  return {
    ok,
    rows: sealedRows + unsealed.count,
    sealed: sealedRows,
    legacyRows: Math.min(boundary, seq),
    unsealed,
    firstBadRow: firstBad,
    checkpoint: ok && seq > 0 ? await signCheckpoint(keys, seq, prev, options.now ?? new Date()) : null,
    against,
  };
}

/** The digest a row must carry: the old unkeyed one up to the recorded boundary, the HMAC after it. */
function digestOf(keys: AuditKeys, row: ChainRow, prev: string, boundary: number): Promise<string | null> {
  const position = Number(row.chain_seq);
  if (position > boundary) return sealedDigest(keys, prev, row, position);
  // The column came with migration 0011: a row chained before it cannot hold one.
  return row.client_request_id === null ? legacyDigest(row) : Promise.resolve(null);
}

/** After a break, the rest of the sealed rows still count (pages of ids only). */
async function countSealed(db: Database, pageSize: number, verified: number): Promise<number> {
  let count = verified;
  let after = verified;
  for (;;) {
    const page = await chainPage(db, after, pageSize);
    count += page.length;
    if (page.length < pageSize) return count;
    after = Number(page[page.length - 1].chain_seq);
  }
}
