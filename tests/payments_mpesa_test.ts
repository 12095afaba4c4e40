/**
 * The M-Pesa adapter against a local Daraja over real HTTP: OAuth (cached), STK push fields, the
 * callback at its secret path confirmed by an STK query, forged callbacks, outages.
 */
import { assert, assertEquals } from "@std/assert";
import { integrationLogs } from "../db/schema.ts";
import type { TestApp } from "./_fixtures.ts";
import { allLogText, outboxTopics, payable, paymentRows, providerTest } from "./_payments.ts";
import { type DarajaServer, MPESA, startDarajaServer } from "./_daraja_server.ts";

function mpesaTest(
  name: string,
  fn: (t: Deno.TestContext, api: TestApp, daraja: DarajaServer, hook: string) => Promise<void>,
  env: Record<string, string> = {},
) {
  providerTest(name, startDarajaServer, (daraja) => ({
    ...env,
    PAYMENT_PROVIDER: "mpesa",
    MPESA_API_URL: daraja.url,
    MPESA_CONSUMER_KEY: MPESA.consumerKey,
    MPESA_CONSUMER_SECRET: MPESA.consumerSecret,
    MPESA_SHORTCODE: MPESA.shortcode,
    MPESA_PASSKEY: MPESA.passkey,
    MPESA_CALLBACK_TOKEN: MPESA.callbackToken,
  }), (t, api, daraja, appUrl) => fn(t, api, daraja, `${appUrl}/payments/webhooks/mpesa/${MPESA.callbackToken}/`));
}

const pay = (api: TestApp, token: string, appointment: number, phone = "0708374149", amount?: number) =>
  api.request("POST", "/payments/", {
    token,
    body: { appointment, payment_method: "mpesa", phone_number: phone, ...(amount ? { amount } : {}) },
  });

mpesaTest(
  "STK push with Daraja's fields; the callback completes the payment only once an STK query confirms it",
  async (t, api, daraja, hook) => {
    const { appointment, token } = await payable(api, 150000, "KES");
    const res = await pay(api, token, appointment);
    assertEquals([res.status, res.body.status, res.body.amount], [201, "pending", 150000], res.text);
    const checkout = String(res.body.provider_reference);
    await t.step("the push: whole shillings, 254 phone, the secret callback path, a valid password", () => {
      const push = daraja.lastPush!;
      assertEquals([push.Amount, push.PhoneNumber, push.PartyA, push.PartyB], [
        1500,
        "254708374149",
        "254708374149",
        MPESA.shortcode,
      ]);
      assertEquals([push.TransactionType, push.CallBackURL], [
        "CustomerPayBillOnline",
        `${hook}?payment=${res.body.id}`,
      ]);
      assertEquals(push.Password, btoa(`${MPESA.shortcode}${MPESA.passkey}${push.Timestamp}`));
      assert(checkout.startsWith("ws_CO_"));
    });
    await t.step("a callback before the customer answered: the query says processing, nothing moves", async () => {
      assertEquals(await daraja.forge(checkout, 0), 200);
      assertEquals((await paymentRows(api))[0].status, "pending");
    });
    await t.step("Daraja's real callback: confirmed by the query, completed, receipt kept", async () => {
      assertEquals(await daraja.settle(checkout, 0), 200);
      const [row] = await paymentRows(api);
      assertEquals(row.status, "completed");
      assert(row.providerReceipt?.startsWith("NLJ"));
      assertEquals(await outboxTopics(api), ["payment.completed"]);
      assertEquals(daraja.counts.queries, 2);
    });
    await t.step("the OAuth token was fetched once and reused", () => assertEquals(daraja.counts.tokens, 1));
    await t.step("no secret in the integration logs", async () => {
      const text = await allLogText(api);
      for (const secret of Object.values(MPESA)) assert(!text.includes(secret), secret);
      assert(!text.includes("254708374149"), "the phone number is masked");
    });
  },
);

mpesaTest("a failed STK payment is failed with Daraja's ResultDesc", async (_t, api, daraja) => {
  const { appointment, token } = await payable(api, 150000, "KES");
  const res = await pay(api, token, appointment);
  assertEquals(await daraja.settle(String(res.body.provider_reference), 1032, "Request cancelled by user"), 200);
  const [row] = await paymentRows(api);
  assertEquals([row.status, row.failureReason], ["failed", "Request cancelled by user"]);
});

mpesaTest(
  "a forged success callback for a failed push changes nothing; a wrong path token is 404",
  async (_t, api, daraja, hook) => {
    const { appointment, token } = await payable(api, 150000, "KES");
    const res = await pay(api, token, appointment);
    const checkout = String(res.body.provider_reference);
    const before = await paymentRows(api);
    const wrong = hook.replace(MPESA.callbackToken, "cb_guess_0000000000000000000000000000");
    assertEquals(await daraja.forge(checkout, 0, wrong), 404);
    assertEquals(await paymentRows(api), before);
    await daraja.settle(checkout, 2001, "The initiator information is invalid.");
    const failed = await paymentRows(api);
    assertEquals(failed[0].status, "failed");
    assertEquals(await daraja.forge(checkout, 0), 200, "acknowledged");
    assertEquals(await paymentRows(api), failed, "the query still says failed: nothing moves");
  },
);

mpesaTest(
  "M-Pesa takes whole Kenyan shillings and Kenyan numbers; refunds are refused; Daraja down is 503",
  async (_t, api, daraja) => {
    const kes = await payable(api, 150050, "KES");
    assertEquals((await pay(api, kes.token, kes.appointment)).status, 422, "150050 cents is not whole shillings");
    const usd = await payable(api, 5000, "USD");
    assertEquals((await pay(api, usd.token, usd.appointment)).status, 422, "not KES");
    const ok = await payable(api, 100000, "KES");
    assertEquals((await pay(api, ok.token, ok.appointment, "+1 555 0100")).status, 422, "not a Kenyan number");
    const card = await api.request("POST", "/payments/", {
      token: ok.token,
      body: { appointment: ok.appointment, payment_method: "card" },
    });
    assertEquals(card.status, 422, "M-Pesa takes no cards");
    assertEquals(daraja.counts.pushes, 0);
    daraja.mode = "down";
    const down = await pay(api, ok.token, ok.appointment);
    assertEquals([down.status, down.headers.get("retry-after")], [503, "5"]);
    assertEquals([(await paymentRows(api)).length, daraja.counts.pushes], [0, 0]);
    daraja.mode = "up";
    const paid = await pay(api, ok.token, ok.appointment);
    assertEquals(paid.status, 201);
    await daraja.settle(String(paid.body.provider_reference), 0);
    const admin = (await api.signIn(await api.makeAdmin())).access;
    const refund = await api.request("POST", `/payments/${paid.body.id}/refunds/`, { token: admin, body: {} });
    assertEquals([refund.status, refund.body.type], [409, "urn:problem-type:patient-portal:refund-not-supported"]);
  },
);

// The push's answer comes after the app's call has timed out, while the customer's phone rings.
const SLOW_ANSWER = { PAYMENT_PROVIDER_TIMEOUT_MS: "300" };

const payKeyed = (api: TestApp, token: string, appointment: number, key: string) =>
  api.request("POST", "/payments/", {
    token,
    body: { appointment, payment_method: "mpesa", phone_number: "0708374149" },
    headers: { "idempotency-key": key },
  });

mpesaTest(
  "an STK push whose answer never came keeps its payment pending; a retry sends no second push; its callback settles it",
  async (t, api, daraja) => {
    const { appointment, token } = await payable(api, 150000, "KES");
    daraja.pushAnswerDelayMs = 1000;
    const first = await payKeyed(api, token, appointment, "k-unanswered-1");
    assertEquals([first.status, first.body.status, first.body.provider_reference], [201, "pending", null], first.text);
    assertEquals(daraja.counts.pushes, 1, "Daraja took the push: the phone rang");
    await t.step("the same key answers the same; another key finds the payment pending; no second push", async () => {
      const again = await payKeyed(api, token, appointment, "k-unanswered-1");
      assertEquals([again.status, again.body], [201, first.body]);
      const other = await payKeyed(api, token, appointment, "k-unanswered-2");
      assertEquals([other.status, other.body.pending_payment], [409, first.body.id], other.text);
      assertEquals(daraja.counts.pushes, 1);
      assertEquals((await paymentRows(api)).length, 1);
    });
    await t.step("the customer pays: the callback names the payment, the query confirms it", async () => {
      daraja.pushAnswerDelayMs = 0;
      const [checkout] = daraja.pushes.keys();
      assertEquals(await daraja.settle(checkout, 0), 200);
      const [row] = await paymentRows(api);
      assertEquals([row.id, row.status, row.providerReference], [first.body.id, "completed", checkout]);
      assertEquals(await outboxTopics(api), ["payment.completed"]);
      assertEquals(daraja.counts.pushes, 1);
    });
  },
  SLOW_ANSWER,
);

mpesaTest(
  "an unanswered payment is given up after ten minutes so the bill can be paid; a late success still completes it, flagged",
  async (t, api, daraja) => {
    const { patient, appointment, token } = await payable(api, 150000, "KES");
    daraja.pushAnswerDelayMs = 1000;
    const first = await payKeyed(api, token, appointment, "k-late-1");
    assertEquals([first.status, first.body.provider_reference], [201, null], first.text);
    const [lost] = daraja.pushes.keys();
    daraja.pushAnswerDelayMs = 0;
    await t.step("within ten minutes it still holds the appointment", async () => {
      assertEquals((await payKeyed(api, token, appointment, "k-late-2")).status, 409);
    });
    await t.step("after ten minutes a new payment gives it up as failed and is pushed", async () => {
      api.clock.advance(11 * 60);
      const fresh = (await api.signIn(patient)).access; // the first token has expired meanwhile
      const second = await payKeyed(api, fresh, appointment, "k-late-3");
      assertEquals([second.status, second.body.status], [201, "pending"], second.text);
      assert(String(second.body.provider_reference).startsWith("ws_CO_"));
      const [old, now] = await paymentRows(api);
      assertEquals([old.status, old.providerReference], ["failed", null]);
      assert(old.failureReason?.includes("never answered"), old.failureReason ?? "");
      assertEquals(now.status, "pending");
      assertEquals(await outboxTopics(api), ["payment.failed"]);
      assertEquals(daraja.counts.pushes, 2);
    });
    await t.step("the lost push is paid after all: the payment completes and the log flags it", async () => {
      assertEquals(await daraja.settle(lost, 0), 200);
      const [old] = await paymentRows(api);
      assertEquals([old.status, old.providerReference], ["completed", lost]);
      const flagged = (await api.db.select().from(integrationLogs)).filter((l) =>
        l.syncStatus === "failed" && l.detail.includes("given up")
      );
      assertEquals(flagged.length, 1);
    });
  },
  SLOW_ANSWER,
);
