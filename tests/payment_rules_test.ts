/** The rules of money, table by table: balances, amounts, refunds, status moves, provider outcomes, phones. */
import { assertEquals } from "@std/assert";
import { DomainError } from "../errors.ts";
import {
  amountToPay,
  amountToRefund,
  balanceOf,
  canMove,
  maskPhone,
  mpesaPhone,
  type Outcome,
  planOutcome,
  wholeShillings,
} from "../services/payment_rules.ts";

const outcome = (fn: () => unknown): unknown => {
  try {
    return fn();
  } catch (e) {
    return e instanceof DomainError ? `${e.kind}:${e.slug}` : `bug: ${e}`;
  }
};
const paid = (amount: number, status: string, refundedAmount = 0) => ({ amount, status, refundedAmount });

Deno.test("the balance is the fee minus completed payments plus refunds", () => {
  const cases: [string, number, ReturnType<typeof paid>[], number][] = [
    ["nothing paid", 5000, [], 5000],
    ["one completed part", 5000, [paid(2000, "completed")], 3000],
    ["pending and failed take nothing", 5000, [paid(2000, "pending"), paid(5000, "failed")], 5000],
    ["a partial refund is owed again", 5000, [paid(5000, "completed", 1500)], 1500],
    ["a full refund is owed again", 5000, [paid(5000, "refunded", 5000)], 5000],
    ["never below zero (the fee was lowered)", 1000, [paid(5000, "completed")], 0],
  ];
  for (const [name, fee, payments, want] of cases) assertEquals(balanceOf(fee, payments), want, name);
});

Deno.test("the amount to pay: the whole balance, or a positive integer up to it", () => {
  const cases: [number | undefined, number, unknown][] = [
    [undefined, 5000, 5000],
    [1, 5000, 1],
    [5000, 5000, 5000],
    [5001, 5000, "invalid:validation"],
    [0, 5000, "invalid:validation"],
    [-1, 5000, "invalid:validation"],
    [10.5, 5000, "invalid:validation"],
    [undefined, 0, "conflict:nothing-to-pay"],
    [1, 0, "conflict:nothing-to-pay"],
  ];
  for (const [requested, balance, want] of cases) {
    assertEquals(outcome(() => amountToPay(requested, balance)), want, `${requested} of ${balance}`);
  }
});

Deno.test("refunds: only of a completed payment, at most what is not refunded yet", () => {
  const cases: [ReturnType<typeof paid>, number | undefined, unknown][] = [
    [paid(5000, "completed"), undefined, 5000],
    [paid(5000, "completed", 1000), undefined, 4000],
    [paid(5000, "completed", 1000), 4000, 4000],
    [paid(5000, "completed", 1000), 4001, "invalid:validation"],
    [paid(5000, "completed"), 0, "invalid:validation"],
    [paid(5000, "pending"), 100, "conflict:not-refundable"],
    [paid(5000, "failed"), 100, "conflict:not-refundable"],
    [paid(5000, "refunded", 5000), 100, "conflict:not-refundable"],
  ];
  for (const [payment, requested, want] of cases) {
    assertEquals(outcome(() => amountToRefund(payment, requested)), want, `${JSON.stringify(payment)} ${requested}`);
  }
});

Deno.test("status moves only pending → completed | failed and completed → refunded", () => {
  const statuses = ["pending", "completed", "failed", "refunded"];
  const allowed = new Set(["pending→completed", "pending→failed", "completed→refunded"]);
  for (const from of statuses) {
    for (const to of statuses) assertEquals(canMove(from, to), allowed.has(`${from}→${to}`), `${from}→${to}`);
  }
});

Deno.test("what a provider's outcome changes: once, and never a completion on a mismatch", () => {
  const payment = (status: string, refundedAmount = 0) => ({ status, amount: 5000, currency: "USD", refundedAmount });
  const cases: [string, ReturnType<typeof payment>, Outcome, unknown][] = [
    ["success completes", payment("pending"), { type: "succeeded", amount: 5000, currency: "usd", receipt: "ch_1" }, {
      changes: { status: "completed", providerReceipt: "ch_1" },
      topic: "payment.completed",
    }],
    ["a repeat changes nothing", payment("completed"), { type: "succeeded", amount: 5000 }, null],
    ["another amount is a mismatch", payment("pending"), { type: "succeeded", amount: 4999 }, {
      mismatch: "the provider took 4999, the payment is 5000",
    }],
    ["another currency is a mismatch", payment("pending"), { type: "succeeded", currency: "eur" }, {
      mismatch: "the provider took EUR, the payment is USD",
    }],
    ["failure fails a pending payment", payment("pending"), { type: "failed", reason: "declined" }, {
      changes: { status: "failed", failureReason: "declined" },
      topic: "payment.failed",
    }],
    ["a late failure changes nothing", payment("completed"), { type: "failed", reason: "declined" }, null],
    ["a partial refund total", payment("completed"), { type: "refunded", refundedTotal: 1000 }, {
      changes: { status: "completed", refundedAmount: 1000 },
      topic: "payment.refunded",
    }],
    ["the full refund total", payment("completed", 1000), { type: "refunded", refundedTotal: 5000 }, {
      changes: { status: "refunded", refundedAmount: 5000 },
      topic: "payment.refunded",
    }],
    ["a total already recorded", payment("completed", 1000), { type: "refunded", refundedTotal: 1000 }, null],
    ["a refund of a pending payment", payment("pending"), { type: "refunded", refundedTotal: 1000 }, null],
    ["still pending", payment("pending"), { type: "pending" }, null],
  ];
  for (const [name, p, o, want] of cases) assertEquals(planOutcome(p, o), want, name);
});

Deno.test("M-Pesa: Kenyan numbers in Daraja's form, whole shillings in KES, phones masked in logs", () => {
  const phones: [string, string | null][] = [
    ["254708374149", "254708374149"],
    ["+254 708 374 149", "254708374149"],
    ["0708374149", "254708374149"],
    ["0110-123-456", "254110123456"],
    ["708374149", "254708374149"],
    ["25470837414", null],
    ["+1 555 0100", null],
    ["0208374149", null],
  ];
  for (const [text, want] of phones) assertEquals(mpesaPhone(text), want, text);
  assertEquals(outcome(() => wholeShillings(150000, "KES")), 1500);
  assertEquals(outcome(() => wholeShillings(150050, "KES")), "invalid:validation");
  assertEquals(outcome(() => wholeShillings(150000, "USD")), "invalid:validation");
  assertEquals(maskPhone("254708374149"), "2547*****149");
});
