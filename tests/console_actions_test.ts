/** Console actions with outside effects: an idempotent refund, and a password-reset link by mail. */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { and, eq } from "drizzle-orm";
import { auditLogs, payments } from "../db/schema.ts";
import { consoleSignIn, makeStaff } from "./_console.ts";
import { appTest } from "./_fixtures.ts";
import { payable } from "./_payments.ts";

appTest("a billing clerk refunds in the console; the same form posted twice refunds once", async (_t, api) => {
  const { appointment, token } = await payable(api, 5000);
  const paid = await api.request("POST", "/payments/", {
    token,
    body: { payment_method: "card", appointment, card_number: "4242424242424242" },
  });
  assertEquals(paid.status, 201, paid.text);
  await api.deps.background.settle();
  const id = paid.body.id as number;
  const clerk = await makeStaff(api, "billing_clerk", [
    "payments:read",
    "payments:read:any",
    "payments:refund",
    "admin:console",
  ]);
  const client = await consoleSignIn(api, clerk);
  const page = await (await client.get(`/admin/payments/${id}`)).text();
  const key = page.match(/name="idempotency_key" value="([^"]+)"/)![1];
  const form = { idempotency_key: key, amount: "1500", reason: "double charge" };
  const first = await client.post(`/admin/payments/${id}/refunds`, form);
  assertEquals([first.status, first.headers.get("location")], [303, `/admin/payments/${id}?notice=Refunded`]);
  const again = await client.post(`/admin/payments/${id}/refunds`, form);
  assertEquals(again.status, 303);
  assertStringIncludes(again.headers.get("location")!, "already%20submitted");
  const [row] = await api.db.select().from(payments).where(eq(payments.id, id));
  assertEquals([row.status, row.refundedAmount], ["completed", 1500]);
  const records = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.userId, clerk.id), eq(auditLogs.action, "update"), eq(auditLogs.outcome, "success")),
  );
  // One refund recorded (the second post found its key answered), through the console.
  assertEquals(records.map((r) => [r.targetTable, (r.details as Record<string, unknown>).via]), [[
    "payments",
    "console",
  ]]);
});

appTest("the console sends a password-reset link to the user's address", async (_t, api) => {
  const admin = await api.makeAdmin();
  const patient = await api.makePatient();
  const client = await consoleSignIn(api, admin);
  const res = await client.post(`/admin/users/${patient.id}/reset`);
  assertEquals(res.status, 303);
  const mails = await api.mails();
  assert(mails.some((m) => m.includes(patient.email) && /token=/.test(m)), "a reset mail with its link");
  const requested = await api.db.select().from(auditLogs).where(eq(auditLogs.action, "password_reset"));
  assert(requested.length > 0 && requested.every((r) => (r.details as Record<string, unknown>).via === "console"));
});
