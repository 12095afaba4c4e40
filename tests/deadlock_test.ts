/**
 * A write Postgres gives up to break a deadlock (40P01) is a 503 `transaction-conflict` to retry,
 * not a 500. Bookings do not deadlock in the exclusion constraint: they insert with `on conflict do
 * nothing`, and reschedules take the doctor's calendar lock (tests/appointments_test.ts books 50 at once).
 */
import { assertEquals } from "@std/assert";
import { sql } from "drizzle-orm";
import { domainErrorOf, sqlState } from "../db/errors.ts";
import { DRIVER } from "./_db.ts";
import { appTest } from "./_fixtures.ts";

if (DRIVER === "pglite") {
  console.log("deadlock test skipped: the embedded database runs one transaction at a time and cannot deadlock");
} else {
  appTest("a transaction aborted to break a deadlock is 503 transaction-conflict, to be retried", async (_t, api) => {
    let release!: () => void;
    const both = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    const meet = async () => {
      if (++arrived === 2) release();
      await both;
    };
    const crossing = (first: number, second: number) =>
      api.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(424242, ${first})`);
        await meet();
        await tx.execute(sql`select pg_advisory_xact_lock(424242, ${second})`);
      }).then(() => undefined, (e: unknown) => e);
    const outcomes = await Promise.all([crossing(1, 2), crossing(2, 1)]);
    const aborted = outcomes.filter((e) => e !== undefined);
    assertEquals(aborted.map((e) => sqlState(e)), ["40P01"], "Postgres broke the deadlock by aborting one");
    const error = domainErrorOf(aborted[0]);
    assertEquals([error?.kind, error?.slug, error?.details.retryAfterSeconds], [
      "unavailable",
      "transaction-conflict",
      1,
    ]);
  });
}
