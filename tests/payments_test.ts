/** Payments on the sandbox provider: the whole flow in-process, through the same signed-webhook path as Stripe. */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { eq } from "drizzle-orm";
import { integrationLogs, notifications, payments, rolePermissions, roles, userRoles } from "../db/schema.ts";
import { relayOnce } from "../services/notification_relay.ts";
import type { Permission } from "../services/permissions.ts";
import { appTest, type TestApp } from "./_fixtures.ts";
import { appointmentOf, outboxTopics, payable, paymentRows } from "./_payments.ts";

const CARD_OK = "4242424242424242";
const CARD_DECLINED = "4000000000000002";
const problem = (slug: string) => `urn:problem-type:patient-portal:${slug}`;

async function pay(api: TestApp, token: string, body: Record<string, unknown>, key?: string) {
  const headers: Record<string, string> = key ? { "idempotency-key": key } : {};
  return await api.request("POST", "/payments/", { token, body: { payment_method: "card", ...body }, headers });
}

async function billingClerk(
  api: TestApp,
  permissions: Permission[] = ["payments:read", "payments:read:any", "payments:refund"],
) {
  const clerk = await api.makeUser([]);
  const [role] = await api.db.insert(roles).values({ roleName: `billing_${crypto.randomUUID().slice(0, 8)}` })
    .returning();
  await api.db.insert(rolePermissions).values(
    permissions.map((permission) => ({
      roleId: role.id,
      permission,
    })),
  );
  await api.db.insert(userRoles).values({ userId: clerk.id, roleId: role.id });
  return (await api.signIn(clerk)).access;
}

appTest("POST /payments/ on the sandbox is pending until its signed event completes it", async (t, api) => {
  const { patient, appointment, token } = await payable(api, 5000);
  const res = await pay(api, token, { appointment, card_number: CARD_OK });
  assertEquals(res.status, 201, res.text);
  assertEquals([res.body.status, res.body.amount, res.body.currency, res.body.provider], [
    "pending",
    5000,
    "USD",
    "sandbox",
  ]);
  assertEquals([res.body.patient, res.body.appointment, res.body.refunded_amount], [patient.id, appointment, 0]);
  assert(String(res.body.provider_reference).startsWith("sbx_pi_"));
  assert(typeof res.body.client_secret === "string");
  await api.deps.background.settle();
  await t.step("the sandbox's event, verified on the webhook route, completed it", async () => {
    const read = await api.request("GET", `/payments/${res.body.id}/`, { token });
    assertEquals([read.body.status, read.body.failure_reason], ["completed", null]);
    assert(String(read.body.provider_receipt).startsWith("sbx_ch_"));
    assertEquals(await outboxTopics(api), ["payment.completed"]);
  });
  await t.step("the outbound call and the inbound webhook each left an integration-log row", async () => {
    const logs = await api.db.select().from(integrationLogs).orderBy(integrationLogs.id);
    const call = logs.find((l) => l.dataType === "payment_intent.create")!;
    assertEquals([call.systemName, call.syncStatus, call.attempt, call.dataReference], [
      "sandbox",
      "success",
      1,
      `payment:${res.body.id}`,
    ]);
    assert(call.latencyMs !== null && call.latencyMs >= 0);
    const hook = logs.find((l) => l.dataType === "webhook:payment_intent.succeeded")!;
    assertEquals(hook.syncStatus, "success");
    assert(!JSON.stringify(logs).includes(CARD_OK), "no card number in the logs");
  });
  await t.step("the relay tells the patient, and only the patient, that the payment was received", async () => {
    assertEquals(await relayOnce(api.deps), 1);
    const mine = await api.request("GET", "/notifications/", { token });
    assertEquals((mine.body.results as { title: string }[]).map((n) => n.title), ["Payment received"]);
    const rows = await api.db.select().from(notifications);
    assertEquals(rows.map((n) => [n.userId, n.type]), [[patient.id, "payment"]]);
  });
  await t.step("nothing is left to pay", async () => {
    const again = await pay(api, token, { appointment, card_number: CARD_OK });
    assertEquals([again.status, again.body.type], [409, problem("nothing-to-pay")]);
  });
});

appTest("a declined sandbox card fails the payment with its reason; the balance stays owed", async (_t, api) => {
  const { appointment, token } = await payable(api, 5000);
  const res = await pay(api, token, { appointment, card_number: CARD_DECLINED });
  assertEquals(res.status, 201, res.text);
  await api.deps.background.settle();
  const read = await api.request("GET", `/payments/${res.body.id}/`, { token });
  assertEquals([read.body.status, read.body.failure_reason], ["failed", "Your card was declined."]);
  assertEquals(await outboxTopics(api), ["payment.failed"]);
  const retry = await pay(api, token, { appointment, card_number: CARD_OK });
  assertEquals([retry.status, retry.body.amount], [201, 5000]);
});

appTest("the amount comes from the server: partial payments up to the balance, anything else 422", async (t, api) => {
  const { appointment, token } = await payable(api, 5000);
  for (const amount of ["100", 10.5, 0, -100, 5001, 1e20]) {
    await t.step(`amount ${JSON.stringify(amount)} is 422`, async () => {
      const res = await pay(api, token, { appointment, amount, card_number: CARD_OK });
      assertEquals(res.status, 422, res.text);
    });
  }
  for (const [field, value] of [["status", "completed"], ["currency", "EUR"], ["card_number", "4111111111111111"]]) {
    await t.step(`${field}=${value} in a create is 422`, async () => {
      const res = await pay(api, token, { appointment, card_number: CARD_OK, [field]: value });
      assertEquals(res.status, 422, res.text);
    });
  }
  assertEquals(await paymentRows(api), [], "nothing was created by a refused request");
  const first = await pay(api, token, { appointment, amount: 2000, card_number: CARD_OK });
  assertEquals([first.status, first.body.amount], [201, 2000]);
  await api.deps.background.settle();
  const rest = await pay(api, token, { appointment, card_number: CARD_OK });
  assertEquals([rest.status, rest.body.amount], [201, 3000], "the balance is the fee minus completed payments");
  await api.deps.background.settle();
  const over = await pay(api, token, { appointment, amount: 1, card_number: CARD_OK });
  assertEquals(over.status, 409);
});

appTest("another patient's appointment answers exactly like one that does not exist", async (_t, api) => {
  const mine = await payable(api);
  const theirs = await payable(api);
  const strip = (b: Record<string, unknown>) => JSON.stringify({ ...b, request_id: null });
  const other = await pay(api, mine.token, { appointment: theirs.appointment, card_number: CARD_OK });
  const none = await pay(api, mine.token, { appointment: 999999, card_number: CARD_OK });
  assertEquals([other.status, none.status], [422, 422]);
  assertEquals(strip(other.body), strip(none.body));
  assertEquals(await paymentRows(api), []);
  const list = await api.request("GET", "/payments/", { token: theirs.token });
  assertEquals(list.body.results, []);
});

appTest("one pending payment per appointment: a second is 409, and the database refuses it too", async (_t, api) => {
  const { patient, appointment, token } = await payable(api, 5000);
  const values = {
    patientId: patient.id,
    appointmentId: appointment,
    amount: 100,
    currency: "USD",
    paymentMethod: "card",
    provider: "sandbox",
  };
  const [pending] = await api.db.insert(payments).values(values).returning();
  const res = await pay(api, token, { appointment, card_number: CARD_OK });
  assertEquals([res.status, res.body.type, res.body.pending_payment], [409, problem("payment-pending"), pending.id]);
  await assertRejects(() => api.db.insert(payments).values(values));
});

appTest(
  "PATCH and PUT change only notes; money, status and references are read-only; DELETE is 405",
  async (t, api) => {
    const { appointment, token } = await payable(api, 5000);
    const created = await pay(api, token, { appointment, card_number: CARD_OK });
    await api.deps.background.settle();
    const id = created.body.id as number;
    const before = await paymentRows(api);
    for (
      const [field, value] of [["amount", 1], ["status", "refunded"], ["currency", "EUR"], ["provider_reference", "x"]]
    ) {
      await t.step(`PATCH ${field} is 422 and changes nothing`, async () => {
        const res = await api.request("PATCH", `/payments/${id}/`, { token, body: { [field]: value } });
        assertEquals([res.status, (res.body.errors as { pointer: string }[])?.[0]?.pointer], [422, `/${field}`]);
        assertEquals(await paymentRows(api), before);
      });
    }
    await t.step("notes change; echoed fields are no change", async () => {
      const res = await api.request("PATCH", `/payments/${id}/`, {
        token,
        body: { notes: "paid by employer", amount: 5000 },
      });
      assertEquals([res.status, res.body.notes, res.body.status], [200, "paid by employer", "completed"]);
      assertEquals((await paymentRows(api)).length, 1);
    });
    await t.step("DELETE is 405 for everyone and the payment stays", async () => {
      const res = await api.request("DELETE", `/payments/${id}/`, { token });
      assertEquals(res.status, 405);
      assertEquals((await paymentRows(api)).length, 1);
    });
    await t.step("the database itself refuses to change money or delete a payment", async () => {
      await assertRejects(() => api.db.update(payments).set({ amount: 1 }).where(eq(payments.id, id)));
      await assertRejects(() => api.db.update(payments).set({ status: "pending" }).where(eq(payments.id, id)));
      await assertRejects(() => api.db.delete(payments).where(eq(payments.id, id)));
    });
  },
);

appTest("refunds: billing refunds part then the rest; the balance owed grows back; patients cannot", async (t, api) => {
  const { appointment, token } = await payable(api, 5000);
  const created = await pay(api, token, { appointment, card_number: CARD_OK });
  await api.deps.background.settle();
  const id = created.body.id as number;
  const billing = await billingClerk(api);
  await t.step("a patient may not refund (403)", async () => {
    const res = await api.request("POST", `/payments/${id}/refunds/`, { token, body: { amount: 100 } });
    assertEquals(res.status, 403);
  });
  await t.step("a partial refund keeps completed with refunded_amount", async () => {
    const res = await api.request("POST", `/payments/${id}/refunds/`, { token: billing, body: { amount: 1500 } });
    assertEquals(res.status, 201, res.text);
    assertEquals([res.body.refund, (res.body.payment as Record<string, unknown>).refunded_amount], [
      {
        amount: 1500,
        status: "succeeded",
        provider_reference: (res.body.refund as { provider_reference: string }).provider_reference,
      },
      1500,
    ]);
    assertEquals((res.body.payment as Record<string, unknown>).status, "completed");
  });
  await t.step("more than is left is 422; the rest refunds it fully", async () => {
    const over = await api.request("POST", `/payments/${id}/refunds/`, { token: billing, body: { amount: 3501 } });
    assertEquals(over.status, 422);
    const rest = await api.request("POST", `/payments/${id}/refunds/`, { token: billing, body: {} });
    assertEquals([rest.status, (rest.body.payment as Record<string, unknown>).status], [201, "refunded"]);
    const again = await api.request("POST", `/payments/${id}/refunds/`, { token: billing, body: {} });
    assertEquals([again.status, again.body.type], [409, problem("not-refundable")]);
  });
  await t.step("the refunded money is owed again", async () => {
    const res = await pay(api, token, { appointment, card_number: CARD_OK });
    assertEquals([res.status, res.body.amount], [201, 5000]);
    assertEquals((await outboxTopics(api)).filter((x) => x === "payment.refunded").length, 2);
  });
});

appTest(
  "the contract's billing role (payments:read and payments:refund) lists and reads every payment; payments:read alone, only its own",
  async (_t, api) => {
    const { appointment, token } = await payable(api, 5000);
    const created = await pay(api, token, { appointment, card_number: CARD_OK });
    const id = created.body.id as number;
    const billing = await billingClerk(api, ["payments:read", "payments:refund"]);
    const list = await api.request("GET", "/payments/", { token: billing });
    assertEquals((list.body.results as { id: number }[]).map((p) => p.id), [id]);
    assertEquals((await api.request("GET", `/payments/${id}/`, { token: billing })).status, 200);
    const reader = await billingClerk(api, ["payments:read"]);
    const none = await api.request("GET", "/payments/", { token: reader });
    assertEquals(none.body.results, []);
    assertEquals((await api.request("GET", `/payments/${id}/`, { token: reader })).status, 404);
  },
);

appTest("a sandbox webhook that is not signed by the sandbox changes nothing", async (_t, api) => {
  const { appointment, token } = await payable(api, 5000);
  const created = await pay(api, token, { appointment, card_number: CARD_DECLINED });
  await api.deps.background.settle(); // the sandbox's own (genuine) decline event lands first
  const before = await paymentRows(api);
  assertEquals(before.map((p) => p.status), ["failed"]);
  const forged = JSON.stringify({
    id: "evt_forged",
    type: "payment_intent.succeeded",
    data: { object: { id: created.body.provider_reference, amount_received: 5000, currency: "usd" } },
  });
  const t = Math.floor(api.clock.now().getTime() / 1000);
  for (const headers of [{} as Record<string, string>, { "stripe-signature": `t=${t},v1=${"0".repeat(64)}` }]) {
    const res = await api.request("POST", "/payments/webhooks/sandbox/", { raw: forged, headers });
    assertEquals([res.status, res.body.type], [400, problem("invalid-webhook-signature")]);
  }
  assertEquals(await paymentRows(api), before);
  const other = await api.request("POST", "/payments/webhooks/stripe/", { raw: forged });
  assertEquals(other.status, 404, "only the configured provider's webhook answers");
});

appTest("a doctor sets their consultation fee and currency; patients then owe it", async (_t, api) => {
  const doctor = await api.makeDoctor();
  const doc = (await api.signIn(doctor)).access;
  const res = await api.request("PATCH", `/doctors/${doctor.id}/`, {
    token: doc,
    body: { consultation_fee: 250000, currency: "KES" },
  });
  assertEquals([res.status, res.body.consultation_fee, res.body.currency], [200, 250000, "KES"]);
  const bad = await api.request("PATCH", `/doctors/${doctor.id}/`, { token: doc, body: { consultation_fee: -1 } });
  assertEquals(bad.status, 422);
  const patient = await api.makePatient();
  const appointment = await appointmentOf(api, patient, doctor);
  const paid = await pay(api, (await api.signIn(patient)).access, {
    appointment,
    payment_method: "mpesa",
    phone_number: "0708 374 149",
  });
  assertEquals([paid.status, paid.body.amount, paid.body.currency, paid.body.payment_method], [
    201,
    250000,
    "KES",
    "mpesa",
  ]);
  await api.deps.background.settle();
  assertEquals((await paymentRows(api))[0].status, "completed");
});

appTest(
  "the same Idempotency-Key on POST /payments/ replays the first answer; another body is 422",
  async (_t, api) => {
    const { appointment, token } = await payable(api, 5000);
    const first = await pay(api, token, { appointment, amount: 1000, card_number: CARD_OK }, "pay-1");
    const again = await pay(api, token, { appointment, amount: 1000, card_number: CARD_OK }, "pay-1");
    assertEquals([again.status, again.body, again.headers.get("idempotent-replayed")], [201, first.body, "true"]);
    const other = await pay(api, token, { appointment, amount: 999, card_number: CARD_OK }, "pay-1");
    assertEquals([other.status, other.body.type], [422, problem("idempotency-key-reused")]);
    assertEquals((await paymentRows(api)).length, 1);
  },
);
