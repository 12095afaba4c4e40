import type { CreatedPayment, PaymentRow } from "../../services/payments.ts";
import type { RefundResult } from "../../services/payment_refunds.ts";
import type { PaymentStatus } from "../../services/payment_rules.ts";
import type { PaymentMethod, ProviderName } from "../../services/payment_providers/provider.ts";

export function paymentView(p: PaymentRow) {
  return {
    id: p.id,
    patient: p.patientId,
    appointment: p.appointmentId,
    amount: p.amount,
    currency: p.currency,
    payment_method: p.paymentMethod as PaymentMethod,
    status: p.status as PaymentStatus,
    provider: p.provider as ProviderName,
    provider_reference: p.providerReference,
    provider_receipt: p.providerReceipt,
    refunded_amount: p.refundedAmount,
    failure_reason: p.failureReason,
    notes: p.notes,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export function createdView(c: CreatedPayment) {
  return { ...paymentView(c.payment), client_secret: c.clientSecret };
}

export function refundView(r: RefundResult) {
  return {
    refund: { amount: r.refund.amount, status: r.refund.status, provider_reference: r.refund.providerReference },
    payment: paymentView(r.payment),
  };
}
