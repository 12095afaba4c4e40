import { and, eq, gte, isNotNull, lt, sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import { idempotencyKeys } from "./schema.ts";

/** How long a key is remembered (Stripe's 24 hours). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: unknown;
}

const cutoff = (now: Date) => new Date(now.getTime() - IDEMPOTENCY_TTL_SECONDS * 1000);

/** The first answer given to this key, if one was committed within the last 24 hours. */
export async function findStoredResponse(
  db: Database,
  userId: number,
  key: string,
  now: Date,
): Promise<StoredResponse | undefined> {
  const [row] = await db.select({
    requestHash: idempotencyKeys.requestHash,
    status: idempotencyKeys.responseStatus,
    body: idempotencyKeys.responseBody,
  }).from(idempotencyKeys)
    .where(and(
      eq(idempotencyKeys.userId, userId),
      eq(idempotencyKeys.key, key),
      gte(idempotencyKeys.createdAt, cutoff(now)),
      isNotNull(idempotencyKeys.responseStatus),
    ));
  return row ? { requestHash: row.requestHash, status: row.status!, body: row.body } : undefined;
}

/**
 * Claims a key inside the transaction of the change it guards, so the key and the change commit
 * together or not at all. A concurrent request with the same key waits on the unique index until
 * the first commits or rolls back (at most `waitMs`, then SQLSTATE 55P03); an expired key is
 * taken over. Returns the claim's id, or null when a live key was committed first.
 */
export async function claimKey(
  tx: Database,
  claim: { userId: number; key: string; requestHash: string; now: Date; waitMs: number },
): Promise<number | null> {
  await tx.execute(sql`select set_config('lock_timeout', ${`${claim.waitMs}ms`}, true)`);
  const [row] = await tx.insert(idempotencyKeys).values({
    userId: claim.userId,
    key: claim.key,
    requestHash: claim.requestHash,
    createdAt: claim.now,
  }).onConflictDoUpdate({
    target: [idempotencyKeys.userId, idempotencyKeys.key],
    set: { requestHash: claim.requestHash, createdAt: claim.now, responseStatus: null, responseBody: null },
    setWhere: lt(idempotencyKeys.createdAt, cutoff(claim.now)),
  }).returning({ id: idempotencyKeys.id });
  await tx.execute(sql`select set_config('lock_timeout', '0', true)`);
  return row?.id ?? null;
}

/** Keeps the answer with the claim, in the same transaction. */
export async function storeResponse(tx: Database, id: number, status: number, body: unknown): Promise<void> {
  await tx.update(idempotencyKeys).set({ responseStatus: status, responseBody: body }).where(
    eq(idempotencyKeys.id, id),
  );
}

/** Forgets keys older than the time they are remembered. */
export async function pruneKeys(db: Database, now: Date): Promise<void> {
  await db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, cutoff(now)));
}
