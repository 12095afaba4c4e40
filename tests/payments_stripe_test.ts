/**
 * The Stripe adapter with the official SDK against a local Stripe over real HTTP (no mocked
 * adapter): charges, concurrency with one Idempotency-Key, signed webhooks (forged, stale,
 * replayed), outages, refunds, and integration logs without secrets.
 */
import { assert, assertEquals } from "@std/assert";
import { count } from "drizzle-orm";
import { idempotencyKeys, integrationLogs, payments } from "../db/schema.ts";
import { DRIVER } from "./_db.ts";
import type { TestApp } from "./_fixtures.ts";
import { allLogText, outboxTopics, payable, paymentRows, providerTest } from "./_payments.ts";
import { startStripeServer, STRIPE_KEY, STRIPE_WEBHOOK_SECRET, type StripeServer } from "./_stripe_server.ts";

function stripeTest(
  name: string,
  fn: (t: Deno.TestContext, api: TestApp, stripe: StripeServer, hook: string) => Promise<void>,
  env: Record<string, string> = {},
) {
  providerTest(name, startStripeServer, (stripe) => ({
    PAYMENT_PROVIDER: "stripe",
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: STRIPE_WEBHOOK_SECRET,
    STRIPE_API_URL: stripe.url,
    ...env,
  }), (t, api, stripe, appUrl) => fn(t, api, stripe, `${appUrl}/payments/webhooks/stripe/`));
}

const pay = (api: TestApp, token: string, appointment: number, key?: string, amount?: number) =>
  api.request("POST", "/payments/", {
    token,
    body: { appointment, payment_method: "card", ...(amount ? { amount } : {}) },
    headers: key ? { "idempotency-key": key } : {},
  });

stripeTest(
  "POST /payments/ creates one PaymentIntent through the SDK and returns its client secret",
  async (t, api, stripe, hook) => {
    const { appointment, token } = await payable(api, 4200, "EUR");
    const res = await pay(api, token, appointment, "first-try");
    assertEquals(res.status, 201, res.text);
    const intent = stripe.intents.get(String(res.body.provider_reference))!;
    assertEquals([intent.amount, intent.currency, intent.metadata.payment_id], [4200, "eur", String(res.body.id)]);
    assertEquals(res.body.client_secret, intent.client_secret);
    assert(
      stripe.keys[0].startsWith("pay-") && stripe.keys[0].endsWith(`-${res.body.id}`),
      "the key passed to Stripe derives from ours",
    );
    assertEquals([res.body.status, stripe.created.intents], ["pending", 1]);
    await t.step("payment_intent.succeeded, signed by Stripe, completes it", async () => {
      const sent = await stripe.send(hook, "payment_intent.succeeded", stripe.succeed(intent.id));
      assertEquals(sent.status, 200, sent.body);
      const row = (await paymentRows(api))[0];
      assertEquals([row.status, row.providerReceipt], ["completed", stripe.intents.get(intent.id)!.latest_charge]);
      assertEquals(await outboxTopics(api), ["payment.completed"]);
    });
  },
);

stripeTest(
  "32 concurrent POST /payments/ with one Idempotency-Key: one row, one PaymentIntent, 32 identical answers",
  async (_t, api, stripe) => {
    const { appointment, token } = await payable(api, 5000);
    const answers = await Promise.all(Array.from({ length: 32 }, () => pay(api, token, appointment, "together")));
    const statuses = answers.map((a) => a.status);
    assertEquals(
      statuses.filter((s) => s === 201).length,
      32,
      JSON.stringify(answers.map((a) => a.text.slice(0, 120))),
    );
    for (const a of answers) assertEquals(a.body, answers[0].body);
    const rows = (await api.db.select({ n: count() }).from(payments))[0].n;
    const keys = (await api.db.select({ n: count() }).from(idempotencyKeys))[0].n;
    const calls = stripe.calls.get("POST /v1/payment_intents") ?? 0;
    console.log(
      `concurrency: 32 requests → ${answers.filter((a) => a.headers.get("idempotent-replayed")).length} replayed, ` +
        `${rows} payment row, ${stripe.created.intents} PaymentIntent, ${calls} create call at the local Stripe`,
    );
    assertEquals([rows, keys, stripe.created.intents, calls], [1, 1, 1, 1]);
  },
);

stripeTest(
  "forged, altered, stale and replayed webhooks change nothing; a valid one applied twice changes the row once",
  async (t, api, stripe, hook) => {
    const { appointment, token } = await payable(api, 5000);
    const created = await pay(api, token, appointment);
    const reference = String(created.body.provider_reference);
    const paid = stripe.succeed(reference);
    const before = await paymentRows(api);
    const cases: [string, () => Promise<{ status: number }>][] = [
      ["unsigned", async () => {
        const res = await fetch(hook, {
          method: "POST",
          body: JSON.stringify({ id: "evt_x", type: "payment_intent.succeeded", data: { object: paid } }),
        });
        await res.body?.cancel();
        return res;
      }],
      [
        "signed with another secret",
        () => stripe.send(hook, "payment_intent.succeeded", paid, { secret: "whsec_attacker" }),
      ],
      ["a bad v1 signature", () => stripe.send(hook, "payment_intent.succeeded", paid, { signature: "ab".repeat(32) })],
      [
        "stale: signed 10 minutes ago",
        () =>
          stripe.send(hook, "payment_intent.succeeded", paid, {
            timestamp: Math.floor(api.clock.now().getTime() / 1000) - 600,
          }),
      ],
      ["altered after signing", async () => {
        const good = await stripe.send(hook, "customer.created", { id: "cus_1" });
        const altered = good.payload.replace("customer.created", "payment_intent.succeeded");
        const res = await fetch(hook, { method: "POST", headers: { "stripe-signature": good.header }, body: altered });
        await res.body?.cancel();
        return res;
      }],
    ];
    for (const [name, send] of cases) {
      await t.step(`${name}: 400, nothing changed`, async () => {
        assertEquals((await send()).status, 400);
        assertEquals(await paymentRows(api), before);
        assertEquals(await outboxTopics(api), []);
      });
    }
    await t.step("the valid event changes the row once, however often it arrives", async () => {
      const first = await stripe.send(hook, "payment_intent.succeeded", paid, { id: "evt_once" });
      assertEquals(first.status, 200);
      const after = await paymentRows(api);
      assertEquals(after[0].status, "completed");
      const replay = await fetch(hook, {
        method: "POST",
        headers: { "stripe-signature": first.header },
        body: first.payload,
      });
      assertEquals(replay.status, 200, "a replay is acknowledged");
      await replay.body?.cancel();
      assertEquals((await stripe.send(hook, "payment_intent.succeeded", paid, { id: "evt_once" })).status, 200);
      assertEquals((await stripe.send(hook, "payment_intent.succeeded", paid, { id: "evt_other" })).status, 200);
      assertEquals(await paymentRows(api), after, "updated once");
      assertEquals(await outboxTopics(api), ["payment.completed"]);
    });
    await t.step("a failure event for the completed payment changes nothing either", async () => {
      const sent = await stripe.send(hook, "payment_intent.payment_failed", {
        ...paid,
        status: "requires_payment_method",
      });
      assertEquals(sent.status, 200);
      assertEquals((await paymentRows(api))[0].status, "completed");
    });
  },
);

stripeTest(
  "a failed payment is made final at Stripe (cancelled); one that succeeded meanwhile completes",
  async (_t, api, stripe, hook) => {
    const { appointment, token } = await payable(api, 5000);
    const first = await pay(api, token, appointment);
    const declined = stripe.decline(String(first.body.provider_reference));
    assertEquals((await stripe.send(hook, "payment_intent.payment_failed", declined)).status, 200);
    const [failed] = await paymentRows(api);
    assertEquals([failed.status, failed.failureReason], ["failed", "Your card was declined."]);
    assertEquals(stripe.intents.get(declined.id)!.status, "canceled");
    const second = await pay(api, token, appointment);
    const reference = String(second.body.provider_reference);
    const late = stripe.decline(reference);
    stripe.succeed(reference); // the customer retried the card before the failure event arrived
    assertEquals((await stripe.send(hook, "payment_intent.payment_failed", late)).status, 200);
    assertEquals((await paymentRows(api))[1].status, "completed", "the provider's own state wins");
  },
);

stripeTest(
  "Stripe down: 503 with Retry-After, nothing created or charged; the same key after recovery charges once",
  async (t, api, stripe) => {
    const { appointment, token } = await payable(api, 5000);
    stripe.mode = "down";
    const down = await pay(api, token, appointment, "retry-me");
    assertEquals([down.status, down.body.type, down.headers.get("retry-after")], [
      503,
      "urn:problem-type:patient-portal:provider-unavailable",
      "5",
    ]);
    assertEquals([(await paymentRows(api)).length, stripe.created.intents], [0, 0]);
    const attempts = stripe.calls.get("POST /v1/payment_intents") ?? 0;
    assertEquals(attempts, 3, "an idempotent create is retried (2 retries) before giving up");
    await t.step("each attempt left a failed integration-log row", async () => {
      const logs = await api.db.select().from(integrationLogs);
      const creates = logs.filter((l) => l.dataType === "payment_intent.create").sort((a, b) => a.attempt - b.attempt);
      assertEquals(creates.map((l) => [l.syncStatus, l.attempt]), [
        ["failed", 1],
        ["failed", 2],
        ["failed", 3],
      ]);
    });
    stripe.mode = "up";
    const later = await pay(api, token, appointment, "retry-me");
    assertEquals([later.status, later.body.status], [201, "pending"], later.text);
    const again = await pay(api, token, appointment, "retry-me");
    assertEquals([again.status, again.body], [201, later.body]);
    assertEquals([(await paymentRows(api)).length, stripe.created.intents], [1, 1]);
  },
);

stripeTest(
  "a Stripe that does not answer: 503 within the configured timeout, nothing created",
  async (_t, api, stripe) => {
    const { appointment, token } = await payable(api, 5000);
    stripe.mode = "hang";
    stripe.hangMs = 3000;
    const started = performance.now();
    const res = await pay(api, token, appointment, "slow");
    const took = performance.now() - started;
    assertEquals([res.status, res.headers.get("retry-after")], [503, "5"]);
    assert(took < 1500, `answered in ${Math.round(took)} ms (timeout 600 ms)`);
    assertEquals((await paymentRows(api)).length, 0);
  },
  { PAYMENT_PROVIDER_TIMEOUT_MS: "600" },
);

stripeTest("PATCH of a completed payment calls no provider and adds no payment row", async (_t, api, stripe, hook) => {
  const { appointment, token } = await payable(api, 5000);
  const created = await pay(api, token, appointment);
  await stripe.send(hook, "payment_intent.succeeded", stripe.succeed(String(created.body.provider_reference)));
  const calls = stripe.totalCalls();
  for (const body of [{ notes: "receipt sent" }, { amount: 5000, status: "completed" }, { amount: 1 }]) {
    const res = await api.request("PATCH", `/payments/${created.body.id}/`, { token, body });
    assert(res.status === 200 || res.status === 422, res.text);
  }
  const put = await api.request("PUT", `/payments/${created.body.id}/`, { token, body: { notes: "again" } });
  assertEquals(put.status, 200);
  assertEquals([stripe.totalCalls(), (await paymentRows(api)).length], [calls, 1]);
});

stripeTest(
  "refunds go through the Refunds API; a pending one is recorded by charge.refunded",
  async (t, api, stripe, hook) => {
    const { appointment, token } = await payable(api, 5000);
    const created = await pay(api, token, appointment);
    const paid = stripe.succeed(String(created.body.provider_reference));
    await stripe.send(hook, "payment_intent.succeeded", paid);
    const admin = (await api.signIn(await api.makeAdmin())).access;
    const id = created.body.id;
    await t.step("succeeded at once: recorded at once", async () => {
      const res = await api.request("POST", `/payments/${id}/refunds/`, { token: admin, body: { amount: 1000 } });
      assertEquals([res.status, (res.body.refund as { status: string }).status], [201, "succeeded"], res.text);
      assertEquals((await paymentRows(api))[0].refundedAmount, 1000);
    });
    await t.step("pending: unchanged until Stripe's charge.refunded says so", async () => {
      stripe.pendingRefunds = true;
      const res = await api.request("POST", `/payments/${id}/refunds/`, { token: admin, body: {} });
      assertEquals([res.status, (res.body.refund as { status: string }).status], [201, "pending"]);
      assertEquals((await paymentRows(api))[0].refundedAmount, 1000);
      const charge = {
        id: paid.latest_charge,
        object: "charge",
        payment_intent: paid.id,
        amount: 5000,
        amount_refunded: 5000,
      };
      assertEquals((await stripe.send(hook, "charge.refunded", charge)).status, 200);
      const [row] = await paymentRows(api);
      assertEquals([row.status, row.refundedAmount], ["refunded", 5000]);
      assertEquals(stripe.created.refunds, 2);
    });
  },
);

stripeTest(
  "integration logs hold no secret: not the API key, the webhook secret, nor a client secret",
  async (_t, api, stripe, hook) => {
    const { appointment, token } = await payable(api, 5000);
    const created = await pay(api, token, appointment);
    await stripe.send(hook, "payment_intent.succeeded", stripe.succeed(String(created.body.provider_reference)));
    await stripe.send(hook, "payment_intent.succeeded", {}, { secret: "whsec_wrong" });
    stripe.mode = "down";
    const other = await payable(api);
    assertEquals((await pay(api, other.token, other.appointment)).status, 503);
    const text = await allLogText(api);
    assert(text.length > 200 && JSON.parse(text).length >= 4, text);
    for (const secret of [STRIPE_KEY, STRIPE_WEBHOOK_SECRET, String(created.body.client_secret), "secret_"]) {
      assert(!text.includes(secret), `the logs contain ${secret}`);
    }
  },
);

stripeTest(
  "a key whose first request is still at Stripe is 409 idempotency-key-in-flight; once answered, it replays; one intent",
  async (_t, api, stripe) => {
    const { appointment, token } = await payable(api, 5000);
    stripe.mode = "hang";
    stripe.hangMs = 1200;
    const first = pay(api, token, appointment, "in-flight");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const during = await pay(api, token, appointment, "in-flight");
    const answered = await first;
    assertEquals(answered.status, 201, answered.text);
    if (DRIVER === "pglite") {
      // The embedded database runs one transaction at a time: the second waits for the first, then replays it.
      assertEquals([during.status, during.body], [201, answered.body]);
    } else {
      assertEquals(
        [during.status, during.body.type],
        [409, "urn:problem-type:patient-portal:idempotency-key-in-flight"],
        during.text,
      );
    }
    stripe.mode = "up";
    const after = await pay(api, token, appointment, "in-flight");
    assertEquals([after.status, after.body], [201, answered.body]);
    assertEquals([stripe.created.intents, (await paymentRows(api)).length], [1, 1]);
  },
  { IDEMPOTENCY_WAIT_MS: "100" },
);

stripeTest(
  "POST /payments/{id}/refunds/ with one Idempotency-Key refunds once: the same body replays, another is 422",
  async (_t, api, stripe, hook) => {
    const { appointment, token } = await payable(api, 5000);
    const created = await pay(api, token, appointment);
    await stripe.send(hook, "payment_intent.succeeded", stripe.succeed(String(created.body.provider_reference)));
    const admin = (await api.signIn(await api.makeAdmin())).access;
    const refund = (amount: number) =>
      api.request("POST", `/payments/${created.body.id}/refunds/`, {
        token: admin,
        body: { amount },
        headers: { "idempotency-key": "refund-1" },
      });
    const answers = await Promise.all(Array.from({ length: 8 }, () => refund(1000)));
    assertEquals(answers.map((a) => a.status), Array(8).fill(201), answers.map((a) => a.text).join("\n"));
    for (const a of answers) assertEquals(a.body, answers[0].body);
    const other = await refund(999);
    assertEquals([other.status, other.body.type], [422, "urn:problem-type:patient-portal:idempotency-key-reused"]);
    assertEquals([stripe.created.refunds, (await paymentRows(api))[0].refundedAmount], [1, 1000]);
  },
);
