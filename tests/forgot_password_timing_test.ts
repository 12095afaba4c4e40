/**
 * `POST /forgot-password/` must not tell by its timing which addresses have accounts: known and
 * unknown addresses go through the same steps before the answer, and the medians of 200 requests
 * each (interleaved ABBA, so load drifts hit both alike) stay within 20 % of each other. 200, not
 * fewer: under the parallel suite a median of 60 moved by more than 20 % on noise alone.
 */
import { assert, assertEquals } from "@std/assert";
import { appTest } from "./_fixtures.ts";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
}

appTest(
  "POST /forgot-password/ answers known and unknown addresses in the same time (medians within 20 %)",
  async (_t, api) => {
    const alice = await api.makePatient();
    const ask = async (email: string) => {
      // Only the request itself is timed: the work it queued finishes before the next one starts.
      await api.deps.background.settle();
      const started = performance.now();
      const res = await api.request("POST", "/forgot-password/", { body: { email } });
      const elapsed = performance.now() - started;
      assertEquals(res.status, 202);
      return elapsed;
    };
    for (let i = 0; i < 5; i++) {
      await ask(alice.email);
      await ask("nobody@example.test");
    }
    const samples = 200;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < samples; i++) {
      if (i % 2 === 0) {
        known.push(await ask(alice.email));
        unknown.push(await ask("nobody@example.test"));
      } else {
        unknown.push(await ask("nobody@example.test"));
        known.push(await ask(alice.email));
      }
    }
    const [k, u] = [median(known), median(unknown)];
    console.log(
      `forgot-password medians over ${samples} requests each: known ${k.toFixed(2)} ms, unknown ${u.toFixed(2)} ms`,
    );
    assert(Math.max(k, u) <= 1.2 * Math.min(k, u), `known ${k.toFixed(2)} ms vs unknown ${u.toFixed(2)} ms`);
    assertEquals((await api.mails()).length, 5 + samples, "every request for the real address sent its mail");
  },
  { env: { RATE_LIMIT_FORGOT_PER_EMAIL: "1000", RATE_LIMIT_FORGOT_PER_IP: "1000" } },
);
