/**
 * Payments: a patient pays for their own appointment (the amount owed comes from the server: the
 * doctor's fee minus what was taken), read through `payments:own` (every row with
 * `payments:read:any`), annotated but never re-charged. The provider is called inside the write:
 * if it cannot be reached, nothing is created and the answer is 503; if a request it cannot take
 * twice went unanswered, the payment is kept pending without a reference; a payment completes only
 * on the provider's word (payment_webhooks.ts). The rules are pure functions in payment_rules.ts.
 */
import * as repo from "../db/payments.ts";
import { Conflict, type FieldIssue, Invalid, invalid, NotAllowed, NotFound } from "../errors.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";
import { amountToPay, balanceOf, givenUp, mpesaPhone, UNANSWERED_REASON } from "./payment_rules.ts";
import type { PaymentMethod, PaymentProvider } from "./payment_providers/provider.ts";

export type PaymentRow = repo.PaymentRow;

export interface PaymentRequest {
  appointment: number;
  patient?: number;
  amount?: number;
  currency?: string;
  paymentMethod: PaymentMethod;
  phoneNumber?: string;
  cardNumber?: string;
  notes?: string;
}

export interface CreatedPayment {
  payment: PaymentRow;
  /** For the front end to confirm the payment with the provider (Stripe); null otherwise. */
  clientSecret: string | null;
  followUp?: () => Promise<void>;
}

export function listPayments(
  ctx: ServiceContext,
  filters: repo.PaymentFilters,
  page: PageRequest,
): Promise<Slice<PaymentRow>> {
  const scope = scopeOf(ctx, "payments");
  const pager = keyset(page, repo.PAYMENT_ORDERINGS, repo.PAYMENT_ID, ctx.deps.tokens.keys.cursorKey);
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await repo.listPayments(db, scope, { ...filters, ...pager }));
    return { result: slice, rowIds: slice.rows.map((p) => p.id), patientIds: slice.rows.map((p) => p.patientId) };
  });
}

export function readPayment(ctx: ServiceContext, id: number): Promise<PaymentRow> {
  const scope = scopeOf(ctx, "payments");
  return ctx.uow.read(async (db) => {
    const found = await repo.findPayment(db, scope, id);
    if (!found) throw new NotFound();
    return { result: found, rowIds: [id], patientIds: [found.patientId] };
  });
}

/** Starts paying an appointment of the caller's: one pending payment, the provider asked once. */
export async function createPayment(ctx: ServiceContext, request: PaymentRequest): Promise<CreatedPayment> {
  const me = actorOf(ctx).userId;
  const scope = scopeOf(ctx, "payments");
  const provider = ctx.deps.paymentProvider;
  const phoneNumber = methodDetails(provider, request);
  if (request.patient !== undefined && request.patient !== me) throw invalid("/patient", "Must be your own user id");
  const keyBase = await providerKeyBase("pay", me, ctx.idempotencyKey);
  const created = await ctx.uow.write(async (tx, effects) => {
    const appointment = await repo.findPayableAppointment(tx, scope, request.appointment);
    if (!appointment) throw invalid("/appointment", "No appointment of yours with this id");
    if (appointment.status === "cancelled") {
      throw new Conflict("appointment-cancelled", "A cancelled appointment cannot be paid");
    }
    if (request.currency !== undefined && request.currency !== appointment.currency) {
      throw invalid("/currency", `This appointment is billed in ${appointment.currency}`);
    }
    const paid = await repo.paymentsOfAppointment(tx, appointment.id);
    const pending = paid.find((p) => p.status === "pending");
    if (pending && givenUp(pending, ctx.now)) {
      const failed = await repo.updatePayment(
        tx,
        pending,
        { status: "failed", failureReason: UNANSWERED_REASON },
        ctx.now,
      );
      await effects.emit({ topic: "payment.failed", payload: paymentEvent(failed) });
    } else if (pending) {
      throw new Conflict("payment-pending", "A payment of this appointment is still pending", {
        members: { pending_payment: pending.id },
      });
    }
    const amount = amountToPay(request.amount, balanceOf(appointment.fee, paid));
    const row = await repo.insertPayment(
      tx,
      {
        patientId: appointment.patientId,
        appointmentId: appointment.id,
        amount,
        currency: appointment.currency,
        paymentMethod: request.paymentMethod,
        provider: provider.name,
      },
      request.notes ?? "",
      ctx.now,
    );
    const charge = await provider.charge({
      paymentId: row.id,
      amount,
      currency: appointment.currency,
      method: request.paymentMethod,
      phoneNumber,
      cardNumber: request.cardNumber,
      idempotencyKey: `${keyBase}-${row.id}`,
    }, effects.log);
    // No reference: the request went unanswered and may have reached the customer. The payment
    // stays pending (holding the appointment) until the provider's callback names it, or is given
    // up after UNANSWERED_PAYMENT_MS; it is never dropped as if nothing had been asked.
    const payment = charge.reference === null
      ? row
      : await repo.updatePayment(tx, row, { providerReference: charge.reference }, ctx.now);
    return {
      result: { payment, clientSecret: charge.clientSecret ?? null, followUp: charge.followUp },
      rowIds: [payment.id],
      patientIds: [payment.patientId],
      details: {
        provider: provider.name,
        amount,
        currency: payment.currency,
        ...(charge.reference === null ? { unanswered: true } : {}),
      },
    };
  });
  const { followUp, ...answer } = created;
  if (followUp) ctx.deps.background.run("payment-follow-up", followUp);
  return answer;
}

export interface PaymentEdit {
  notes?: string;
  /** Everything else may only be echoed as it is. */
  echoed: Partial<Record<string, unknown>>;
}

/** PATCH and PUT: only `notes` changes; money fields, status and references are read-only. No provider is called. */
export function changePayment(ctx: ServiceContext, id: number, edit: PaymentEdit): Promise<PaymentRow> {
  const scope = scopeOf(ctx, "payments");
  return ctx.uow.write(async (tx) => {
    const current = await repo.findPayment(tx, scope, id, { lock: true });
    if (!current) throw new NotFound();
    const shown: Record<string, unknown> = {
      patient: current.patientId,
      appointment: current.appointmentId,
      amount: current.amount,
      currency: current.currency,
      payment_method: current.paymentMethod,
      status: current.status,
      provider: current.provider,
      provider_reference: current.providerReference,
    };
    const changed: FieldIssue[] = Object.entries(edit.echoed)
      .filter(([field, value]) => value !== undefined && value !== shown[field])
      .map(([field]) => ({ pointer: `/${field}`, detail: "Read-only: set by the payment flow" }));
    if (changed.length) throw new Invalid(changed, "Only notes can be changed; a payment's money never is");
    const updated = edit.notes === undefined || edit.notes === current.notes
      ? current
      : await repo.updatePayment(tx, current, { notes: edit.notes }, ctx.now);
    return { result: updated, rowIds: [id], patientIds: [current.patientId] };
  }, { details: { fields: Object.keys({ ...edit.echoed, ...(edit.notes === undefined ? {} : { notes: 1 }) }) } });
}

/** DELETE: refused for everyone (a payment is a record of money), and the attempt recorded. */
export function refusePaymentDelete(ctx: ServiceContext): Promise<never> {
  return ctx.uow.check(() => Promise.reject(new NotAllowed("Payments are never deleted", ["GET", "PUT", "PATCH"])));
}

/** The provider must offer the method; M-Pesa needs a phone number, the sandbox a test card, nobody else a card. */
function methodDetails(provider: PaymentProvider, request: PaymentRequest): string | undefined {
  if (!provider.methods.includes(request.paymentMethod)) {
    throw invalid("/payment_method", `The ${provider.name} provider takes ${provider.methods.join(" or ")}`);
  }
  if (request.cardNumber !== undefined && (provider.name !== "sandbox" || request.paymentMethod !== "card")) {
    throw invalid("/card_number", "Card details are entered in the provider's own form, never sent here");
  }
  if (request.paymentMethod === "card" && provider.name === "sandbox" && request.cardNumber === undefined) {
    throw invalid("/card_number", "Required by the sandbox: one of its test card numbers");
  }
  if (request.paymentMethod !== "mpesa") {
    if (request.phoneNumber !== undefined) throw invalid("/phone_number", "Only for M-Pesa");
    return undefined;
  }
  const phone = request.phoneNumber === undefined ? null : mpesaPhone(request.phoneNumber);
  if (!phone) throw invalid("/phone_number", "A Kenyan mobile number, such as 254708374149 or 0708374149");
  return phone;
}

/**
 * The idempotency key a provider is given, derived from the caller's own key (so a retry of the
 * same request reaches the provider with the same key) or, without one, unique to this request;
 * the payment id is appended by the caller.
 */
export async function providerKeyBase(prefix: string, userId: number, key: string | undefined): Promise<string> {
  if (key === undefined) return `${prefix}-${crypto.randomUUID()}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${userId}\n${key}`));
  return `${prefix}-${
    Array.from(new Uint8Array(digest).slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

/** What the outbox carries about a payment: ids and money, no health details. */
export function paymentEvent(p: PaymentRow) {
  return {
    payment: p.id,
    patient: p.patientId,
    appointment: p.appointmentId,
    amount: p.amount,
    refunded_amount: p.refundedAmount,
    currency: p.currency,
    status: p.status,
  };
}
