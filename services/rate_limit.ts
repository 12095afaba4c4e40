import { inArray, lt, sql } from "drizzle-orm";
import { type Database, queryRows } from "../db/client.ts";
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
  const [state] = await hitInOrder(db, [limit], now);
  return state;
}

/**
 * Counts a hit in each bucket in turn, as `hit` does, stopping after the first one over its limit:
 * the states of the buckets counted, in order. One statement (each bucket's upsert runs only when
 * the one before was within its limit), so a sign-in's three counts cost one round trip.
 */
export async function hitInOrder(db: Database, limits: Limit[], now: Date): Promise<LimitState[]> {
  const at = sql`${now.toISOString()}::timestamptz`;
  const steps = limits.map((limit, i) => {
    const windowStart = sql`${new Date(now.getTime() - limit.windowSeconds * 1000).toISOString()}::timestamptz`;
    const expired = sql`${rateLimits.windowStart} <= ${windowStart}`;
    const within = i === 0 ? sql`` : sql` where (select hits from ${step(i - 1)}) <= ${limits[i - 1].max}::bigint`;
    return sql`${step(i)} as (
      insert into ${rateLimits} (bucket, window_start, hits) select ${limit.bucket}, ${at}, 1${within}
      on conflict (bucket) do update set
        hits = case when ${expired} then 1 else ${rateLimits.hits} + 1 end,
        window_start = case when ${expired} then ${at} else ${rateLimits.windowStart} end
      returning hits, window_start)`;
  });
  const answers = sql.join(
    limits.map((_, i) =>
      sql`select ${sql.raw(String(i))} as step, hits, (extract(epoch from window_start) * 1000)::float8 as window_ms
      from ${step(i)}`
    ),
    sql` union all `,
  );
  const rows = await queryRows<{ step: number; hits: number; window_ms: number }>(
    db,
    sql`with ${sql.join(steps, sql`, `)} ${answers} order by step`,
  );
  return rows.map((row) => {
    const limit = limits[row.step];
    return state({ windowStart: new Date(row.window_ms), hits: row.hits }, limit, now, row.hits > limit.max);
  });
}

function step(i: number) {
  return sql.raw(`hit_${i}`);
}

/** Gives back the hit `hit` took in each bucket (an attempt that turned out not to count, like a right password). */
export async function release(db: Database, ...limits: Limit[]): Promise<void> {
  await db.update(rateLimits).set({ hits: sql`greatest(${rateLimits.hits} - 1, 0)` })
    .where(inArray(rateLimits.bucket, limits.map((limit) => limit.bucket)));
}

function state(row: { windowStart: Date; hits: number }, limit: Limit, now: Date, limited: boolean): LimitState {
  const resetsAt = row.windowStart.getTime() + limit.windowSeconds * 1000;
  return { limited, retryAfterSeconds: Math.max(1, Math.ceil((resetsAt - now.getTime()) / 1000)), hits: row.hits };
}

/** Removes windows that ended long ago; cheap enough to run now and then from a request. */
export async function pruneRateLimits(db: Database, now: Date, olderThanSeconds: number): Promise<void> {
  await db.delete(rateLimits).where(lt(rateLimits.windowStart, new Date(now.getTime() - olderThanSeconds * 1000)));
}

/**
 * The client a per-address limit counts: an IPv4 address as it is (an IPv4-mapped IPv6 address
 * as its IPv4), an IPv6 address by its /64, the block one subscriber is usually given, so
 * rotating through one's own addresses does not reset the count.
 */
export function clientKey(address: string | null): string {
  if (!address) return "unknown";
  const text = address.trim().toLowerCase().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!text.includes(":")) return text;
  const mapped = text.match(/^(?:(?:0{1,4}:){5}|::)ffff:(\d{1,3}(?:\.\d{1,3}){3})$/);
  if (mapped) return mapped[1];
  const groups = ipv6Groups(text);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : text;
}

/** The eight groups of an IPv6 address, without leading zeros; null when it is not one. */
function ipv6Groups(text: string): string[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const left = halves[0] ? halves[0].split(":") : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? groups.map((g) => parseInt(g, 16).toString(16)) : null;
}
