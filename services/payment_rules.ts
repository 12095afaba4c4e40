/**
 * The rules of money, as pure functions: what an appointment still owes, what a payment or a
 * refund may be, how a status moves, what a provider's event changes. Amounts are integers in
 * minor units; nothing here calls a provider or the database.
 */
import { Conflict, invalid } from "../errors.ts";

export const PAYMENT_STATUSES = ["pending", "completed", "failed", "refunded"] as const;
export type PaymentStatus = typeof PAYMENT_STATUSES[number];

/** The largest amount a payment may hold (10^11 minor units), as the doctor's fee is bounded. */
export const MAX_AMOUNT = 100_000_000_000;

export interface PaidSoFar {
  amount: number;
  refundedAmount: number;
  status: string;
}

/**
 * How long a payment whose request the provider never answered (no reference) holds its
 * appointment: long past Daraja's own STK timeout and callback, short enough to pay again today.
 */
export const UNANSWERED_PAYMENT_MS = 10 * 60_000;
export const UNANSWERED_REASON = "The provider never answered the payment request; nothing was confirmed";

/** A pending payment that got no answer from its provider and has waited long enough to be given up. */
export function givenUp(p: { status: string; providerReference: string | null; createdAt: Date }, now: Date) {
  return p.status === "pending" && p.providerReference === null &&
    now.getTime() - p.createdAt.getTime() >= UNANSWERED_PAYMENT_MS;
}

/** The fee minus completed payments plus refunds: pending and failed payments took nothing (yet). */
export function balanceOf(fee: number, payments: readonly PaidSoFar[]): number {
  const kept = payments
    .filter((p) => p.status === "completed" || p.status === "refunded")
    .reduce((sum, p) => sum + p.amount - p.refundedAmount, 0);
  return Math.max(0, fee - kept);
}

/** The amount to charge: the whole balance when none is asked, else a positive integer no larger than it. */
export function amountToPay(requested: number | undefined, balance: number): number {
  if (balance <= 0) throw new Conflict("nothing-to-pay", "This appointment has nothing left to pay");
  if (requested === undefined) return balance;
  if (!Number.isSafeInteger(requested) || requested <= 0) {
    throw invalid("/amount", "A positive integer amount in minor units");
  }
  if (requested > balance) throw invalid("/amount", `At most the balance, ${balance}`);
  return requested;
}

/** What a refund may take back: a completed payment's amount not yet refunded. */
export function amountToRefund(
  payment: { status: string; amount: number; refundedAmount: number },
  requested: number | undefined,
): number {
  const refundable = payment.amount - payment.refundedAmount;
  if (payment.status !== "completed" || refundable <= 0) {
    throw new Conflict("not-refundable", "Only a completed payment with an amount not yet refunded can be refunded");
  }
  if (requested === undefined) return refundable;
  if (!Number.isSafeInteger(requested) || requested <= 0) {
    throw invalid("/amount", "A positive integer amount in minor units");
  }
  if (requested > refundable) throw invalid("/amount", `At most the amount not yet refunded, ${refundable}`);
  return requested;
}

/** The moves a status may make: pending → completed | failed, completed → refunded. */
export function canMove(from: string, to: string): boolean {
  return (from === "pending" && (to === "completed" || to === "failed")) || (from === "completed" && to === "refunded");
}

/** A refunded total (cumulative, as providers report it) applied to a payment. */
export function afterRefund(
  payment: { status: string; amount: number; refundedAmount: number },
  refundedTotal: number,
): { status: PaymentStatus; refundedAmount: number } | null {
  const total = Math.min(payment.amount, refundedTotal);
  if (payment.status !== "completed" || total <= payment.refundedAmount) return null;
  return { refundedAmount: total, status: total === payment.amount ? "refunded" : "completed" };
}

/** A provider's word about a payment, once verified (and confirmed where the event alone is not its word). */
export type Outcome =
  | { type: "succeeded"; amount?: number; currency?: string; receipt?: string }
  | { type: "failed"; reason: string }
  | { type: "refunded"; refundedTotal: number }
  | { type: "pending" };

export interface PlannedChange {
  changes: {
    status?: PaymentStatus;
    refundedAmount?: number;
    failureReason?: string;
    providerReceipt?: string;
  };
  topic: "payment.completed" | "payment.failed" | "payment.refunded";
}

/**
 * What an outcome changes: null when nothing (a repeat, a late event for a settled payment, or
 * a success whose amount or currency is not the payment's: never completed on a mismatch).
 */
export function planOutcome(
  payment: { status: string; amount: number; currency: string; refundedAmount: number },
  outcome: Outcome,
): PlannedChange | { mismatch: string } | null {
  switch (outcome.type) {
    case "succeeded": {
      if (payment.status !== "pending") return null;
      if (outcome.amount !== undefined && outcome.amount !== payment.amount) {
        return { mismatch: `the provider took ${outcome.amount}, the payment is ${payment.amount}` };
      }
      if (outcome.currency !== undefined && outcome.currency.toUpperCase() !== payment.currency) {
        return { mismatch: `the provider took ${outcome.currency.toUpperCase()}, the payment is ${payment.currency}` };
      }
      const receipt = outcome.receipt ? { providerReceipt: outcome.receipt.slice(0, 200) } : {};
      return { changes: { status: "completed", ...receipt }, topic: "payment.completed" };
    }
    case "failed":
      if (payment.status !== "pending") return null;
      return {
        changes: { status: "failed", failureReason: outcome.reason.slice(0, 500) || "The payment failed" },
        topic: "payment.failed",
      };
    case "refunded": {
      const after = afterRefund(payment, outcome.refundedTotal);
      return after && { changes: after, topic: "payment.refunded" };
    }
    case "pending":
      return null;
  }
}

/**
 * A Kenyan mobile number in the form Daraja takes (2547XXXXXXXX or 2541XXXXXXXX), from
 * `07…`, `01…`, `+254…` or `254…` with spaces or dashes; null when it is not one.
 */
export function mpesaPhone(text: string): string | null {
  const digits = text.replace(/[\s-]/g, "").replace(/^\+/, "");
  const match = digits.match(/^(?:254|0)?([17]\d{8})$/);
  return match ? `254${match[1]}` : null;
}

/** Whole shillings for Daraja: KES only, and an amount of minor units that is a whole number of shillings. */
export function wholeShillings(amount: number, currency: string): number {
  if (currency !== "KES") throw invalid("/currency", "M-Pesa takes Kenyan shillings (KES) only");
  if (amount % 100 !== 0) throw invalid("/amount", "M-Pesa takes whole shillings: a multiple of 100 cents");
  return amount / 100;
}

/** A phone number as logs may show it: the country code and the last three digits. */
export function maskPhone(phone: string): string {
  return phone.length > 6 ? `${phone.slice(0, 4)}${"*".repeat(phone.length - 7)}${phone.slice(-3)}` : "***";
}
