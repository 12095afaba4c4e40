/**
 * The database keeps a payment a record of money whatever the API does: its status only moves
 * forward, a failed payment completes only if it never had a provider reference (given up
 * unanswered, then paid after all), no finished payment lacks a reference unless it failed, and
 * nothing is deleted. Statements go straight to the database, past the services.
 */
import { assertEquals, assertRejects } from "@std/assert";
import { eq } from "drizzle-orm";
import { payments } from "../db/schema.ts";
import { appTest, type TestApp } from "./_fixtures.ts";
import { payable } from "./_payments.ts";

async function payment(api: TestApp, reference: string | null) {
  const { patient, appointment } = await payable(api, 5000, "USD");
  const [row] = await api.db.insert(payments).values({
    patientId: patient.id,
    appointmentId: appointment,
    amount: 5000,
    currency: "USD",
    paymentMethod: "card",
    provider: "stripe",
    providerReference: reference,
  }).returning();
  return row.id;
}

const set = (api: TestApp, id: number, values: Partial<typeof payments.$inferInsert>) =>
  api.db.update(payments).set(values).where(eq(payments.id, id));

appTest(
  "payments: the database refuses backward moves, a completion without a reference, and deletes",
  async (t, api) => {
    await t.step("pending → completed → refunded with a reference; never back", async () => {
      const id = await payment(api, `pi_${crypto.randomUUID()}`);
      await set(api, id, { status: "completed" });
      await assertRejects(() => set(api, id, { status: "pending" }));
      await assertRejects(() => set(api, id, { status: "failed" }));
      await set(api, id, { status: "refunded", refundedAmount: 5000 });
    });
    await t.step("a failed payment that had a reference never completes", async () => {
      const id = await payment(api, `pi_${crypto.randomUUID()}`);
      await set(api, id, { status: "failed", failureReason: "declined" });
      await assertRejects(() => set(api, id, { status: "completed" }));
    });
    await t.step("given up without a reference, it completes only as it gains one", async () => {
      const id = await payment(api, null);
      await set(api, id, { status: "failed", failureReason: "no answer" });
      await assertRejects(() => set(api, id, { status: "completed" })); // still no reference
      await set(api, id, { status: "completed", providerReference: "ws_CO_late" });
      await assertRejects(() => set(api, id, { providerReference: "ws_CO_other" })); // kept once set
    });
    await t.step("a completed payment without a reference is refused; no payment is deleted", async () => {
      const id = await payment(api, null);
      await assertRejects(() => set(api, id, { status: "completed" }));
      await assertRejects(() => api.db.delete(payments).where(eq(payments.id, id)));
      assertEquals((await api.db.select().from(payments).where(eq(payments.id, id))).length, 1);
    });
  },
);
