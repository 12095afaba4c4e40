/**
 * Refunds, by holders of `payments:refund`: the provider refunds inside the write (its
 * idempotency key derived from the request's), and the payment records it only once the
 * provider says the money went back — at once, or in its later `charge.refunded` event.
 */
import * as repo from "../db/payments.ts";
import { Conflict, NotFound } from "../errors.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { afterRefund, amountToRefund } from "./payment_rules.ts";
import { paymentEvent, providerKeyBase } from "./payments.ts";

export interface RefundResult {
  payment: repo.PaymentRow;
  refund: { amount: number; status: "succeeded" | "pending"; providerReference: string };
}

export async function refundPayment(
  ctx: ServiceContext,
  id: number,
  request: { amount?: number; reason?: string },
): Promise<RefundResult> {
  const scope = scopeOf(ctx, "payments");
  const provider = ctx.deps.paymentProvider;
  const keyBase = await providerKeyBase("refund", actorOf(ctx).userId, ctx.idempotencyKey);
  return await ctx.uow.write(async (tx, effects) => {
    const payment = await repo.findPayment(tx, scope, id, { lock: true });
    if (!payment) throw new NotFound();
    const amount = amountToRefund(payment, request.amount);
    if (payment.provider !== provider.name || !payment.providerReference) {
      throw new Conflict(
        "provider-changed",
        `This payment was taken by ${payment.provider}; the configured provider is ${provider.name}`,
      );
    }
    const refund = await provider.refund({
      paymentId: payment.id,
      reference: payment.providerReference,
      amount,
      currency: payment.currency,
      idempotencyKey: `${keyBase}-${payment.id}`,
    }, effects.log);
    let updated: repo.PaymentRow = payment;
    if (refund.status === "succeeded") {
      const after = afterRefund(payment, payment.refundedAmount + amount);
      if (after) {
        updated = await repo.updatePayment(tx, payment, after, ctx.now);
        await effects.emit({ topic: "payment.refunded", payload: { ...paymentEvent(updated), refund: amount } });
      }
    }
    return {
      result: { payment: updated, refund: { amount, status: refund.status, providerReference: refund.reference } },
      rowIds: [id],
      patientIds: [payment.patientId],
      details: { refund: amount, refund_status: refund.status, reason: request.reason?.slice(0, 200) },
    };
  });
}
