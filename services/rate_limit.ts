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
  /** Hits in the current window, this one included. */
  hits: number;
}

/**
 * Counts one hit and reports whether the bucket is over its limit, in one statement (an atomic
 * upsert): concurrent requests each get their own count, so a limit checked this way before the
 * work it guards (a reservation) cannot be overrun by sending them all at once.
 */
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

/** Gives back one hit taken by `hit` (an attempt that turned out not to count, like a right password). */
export async function release(db: Database, limit: Limit): Promise<void> {
  await db.update(rateLimits).set({ hits: sql`greatest(${rateLimits.hits} - 1, 0)` })
    .where(eq(rateLimits.bucket, limit.bucket));
}

function state(row: { windowStart: Date; hits: number }, limit: Limit, now: Date, limited: boolean): LimitState {
  const resetsAt = row.windowStart.getTime() + limit.windowSeconds * 1000;
  return { limited, retryAfterSeconds: Math.max(1, Math.ceil((resetsAt - now.getTime()) / 1000)), hits: row.hits };
}

/** Removes windows that ended long ago; cheap enough to run now and then from a request. */
export async function pruneRateLimits(db: Database, now: Date, olderThanSeconds: number): Promise<void> {
  await db.delete(rateLimits).where(lt(rateLimits.windowStart, new Date(now.getTime() - olderThanSeconds * 1000)));
}
