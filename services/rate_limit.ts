import { eq, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { rateLimits } from "../db/schema.ts";

/** A fixed-window counter kept in the database, so the limit holds across every instance. */
export interface Limit {
  bucket: string;
  max: number;
  windowSeconds: number;
}

export interface LimitState {
  limited: boolean;
  retryAfterSeconds: number;
}

/** Counts one hit and reports whether the bucket is over its limit (atomic upsert). */
export async function hit(db: Database, limit: Limit, now: Date): Promise<LimitState> {
  const windowStart = sql`${new Date(now.getTime() - limit.windowSeconds * 1000).toISOString()}::timestamptz`;
  const [row] = await db.insert(rateLimits)
    .values({ bucket: limit.bucket, windowStart: now, hits: 1 })
    .onConflictDoUpdate({
      target: rateLimits.bucket,
      set: {
        hits: sql`case when ${rateLimits.windowStart} <= ${windowStart} then 1 else ${rateLimits.hits} + 1 end`,
        windowStart:
          sql`case when ${rateLimits.windowStart} <= ${windowStart} then ${now.toISOString()}::timestamptz else ${rateLimits.windowStart} end`,
      },
    })
    .returning({ hits: rateLimits.hits, windowStart: rateLimits.windowStart });
  return state(row, limit, now, row.hits > limit.max);
}

/** Reports whether a bucket is already at its limit, without counting. */
export async function peek(db: Database, limit: Limit, now: Date): Promise<LimitState> {
  const [row] = await db.select({ hits: rateLimits.hits, windowStart: rateLimits.windowStart })
    .from(rateLimits).where(eq(rateLimits.bucket, limit.bucket));
  if (!row || row.windowStart.getTime() + limit.windowSeconds * 1000 <= now.getTime()) {
    return { limited: false, retryAfterSeconds: 0 };
  }
  return state(row, limit, now, row.hits >= limit.max);
}

function state(row: { windowStart: Date }, limit: Limit, now: Date, limited: boolean): LimitState {
  const resetsAt = row.windowStart.getTime() + limit.windowSeconds * 1000;
  return { limited, retryAfterSeconds: Math.max(1, Math.ceil((resetsAt - now.getTime()) / 1000)) };
}

/** Removes windows that ended long ago; cheap enough to run now and then from a request. */
export async function pruneRateLimits(db: Database, now: Date, olderThanSeconds: number): Promise<void> {
  await db.delete(rateLimits).where(lt(rateLimits.windowStart, new Date(now.getTime() - olderThanSeconds * 1000)));
}
