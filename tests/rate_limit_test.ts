/**
 * The database's fixed-window counters: several buckets counted in one statement, in order, stopping
 * after the first one over its limit (a sign-in refused for its address must not count against the
 * account), windows that restart, and hits given back.
 */
import { assertEquals } from "@std/assert";
import { inArray } from "drizzle-orm";
import { rateLimits } from "../db/schema.ts";
import { hit, hitInOrder, type Limit, release } from "../services/rate_limit.ts";
import { appTest } from "./_fixtures.ts";

const first: Limit = { bucket: "test:first", max: 2, windowSeconds: 60 };
const second: Limit = { bucket: "test:second", max: 10, windowSeconds: 60 };
const third: Limit = { bucket: "test:third", max: Number.MAX_SAFE_INTEGER, windowSeconds: 60 };
const at = (seconds: number) => new Date(Date.UTC(2030, 0, 1, 9, 0, seconds));

appTest("buckets are counted in order, and none after the first one over its limit", async (_t, api) => {
  const hits = async () => {
    const rows = await api.db.select().from(rateLimits)
      .where(inArray(rateLimits.bucket, [first.bucket, second.bucket, third.bucket]));
    return Object.fromEntries(rows.map((r) => [r.bucket, r.hits]));
  };
  const all = [first, second, third];
  const one = await hitInOrder(api.db, all, at(0));
  assertEquals(one.map((s) => [s.hits, s.limited]), [[1, false], [1, false], [1, false]]);
  await hitInOrder(api.db, all, at(1));
  const over = await hitInOrder(api.db, all, at(2));
  assertEquals(over.map((s) => [s.hits, s.limited, s.retryAfterSeconds]), [[3, true, 58]]);
  assertEquals(await hits(), { "test:first": 3, "test:second": 2, "test:third": 2 });

  await release(api.db, second, third);
  assertEquals(await hits(), { "test:first": 3, "test:second": 1, "test:third": 1 });

  // A minute after the window began it starts again at one.
  const later = await hitInOrder(api.db, all, at(61));
  assertEquals(later.map((s) => [s.hits, s.limited, s.retryAfterSeconds]), [[1, false, 60], [1, false, 60], [
    1,
    false,
    60,
  ]]);
  assertEquals((await hit(api.db, first, at(62))).hits, 2);
});
