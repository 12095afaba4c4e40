/**
 * The development provider: offline, in-process, no second process. It decides by documented
 * test numbers (anything else is refused, so no real card number is ever processed), and
 * reports the outcome the way Stripe does: an event signed with its secret
 * (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`), delivered through the app to
 * `POST /payments/webhooks/sandbox/`, where the SDK's signature check verifies it like any
 * provider's. It never runs when `APP_ENV=production` (config.ts refuses it).
 */
import { invalid } from "../../errors.ts";
import type { Clock } from "../clock.ts";
import { maskPhone } from "../payment_rules.ts";
import { type CallBudget, callProvider } from "./calls.ts";
import type { CallLog, ChargeRequest, PaymentProvider } from "./provider.ts";
import { verifiedStripeEvent } from "./stripe_events.ts";

/** Test card numbers: what each one does. */
export const SANDBOX_CARDS: Record<string, { succeeds: boolean; reason?: string }> = {
  "4242424242424242": { succeeds: true },
  "5555555555554444": { succeeds: true },
  "4000000000000002": { succeeds: false, reason: "Your card was declined." },
  "4000000000009995": { succeeds: false, reason: "Your card has insufficient funds." },
};

/** Test phone numbers (M-Pesa): what each one does. */
export const SANDBOX_PHONES: Record<string, { succeeds: boolean; reason?: string }> = {
  "254708374149": { succeeds: true },
  "254711000001": { succeeds: false, reason: "Request cancelled by user" },
  "254711000002": { succeeds: false, reason: "The balance is insufficient for the transaction" },
};

export const SANDBOX_WEBHOOK_PATH = "/payments/webhooks/sandbox/";

export function sandboxProvider(options: { clock: Clock; budget: CallBudget; toleranceSeconds: number }) {
  const secret = `whsec_sandbox_${crypto.randomUUID().replaceAll("-", "")}`;
  let dispatch: ((request: Request) => Promise<Response>) | undefined;

  const deliver = async (type: string, object: Record<string, unknown>) => {
    if (!dispatch) throw new Error("the sandbox provider is not connected to an app");
    const created = Math.floor(options.clock().getTime() / 1000);
    const payload = JSON.stringify({
      id: `evt_sbx_${crypto.randomUUID().replaceAll("-", "")}`,
      object: "event",
      type,
      created,
      livemode: false,
      data: { object },
    });
    const signature = await sign(secret, created, payload);
    const response = await dispatch(
      new Request(`http://sandbox.internal${SANDBOX_WEBHOOK_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": `t=${created},v1=${signature}` },
        body: payload,
      }),
    );
    await response.body?.cancel();
    if (!response.ok) throw new Error(`the sandbox event ${type} was answered ${response.status}`);
  };

  /** The sandbox answers at once, but its calls are logged like a real provider's. */
  const answered = (log: CallLog, operation: string, paymentId: number, detail: string) =>
    callProvider({
      system: "sandbox",
      operation,
      reference: `payment:${paymentId}`,
      idempotent: true,
      budget: options.budget,
      log,
      secrets: [secret],
      run: () => Promise.resolve(detail),
      classify: () => ({ transient: true, detail: "unreachable" }),
      describe: () => detail,
    });
  const provider: PaymentProvider = {
    name: "sandbox",
    methods: ["card", "mpesa"],
    acknowledgement: { received: true },
    connect(app) {
      dispatch = app;
    },
    async charge(request, log) {
      const verdict = decide(request);
      const reference = `sbx_pi_${crypto.randomUUID().replaceAll("-", "")}`;
      const subject = request.method === "mpesa" ? `phone ${maskPhone(request.phoneNumber ?? "")}` : "test card";
      await answered(log, "payment_intent.create", request.paymentId, `${reference} (${subject})`);
      const intent = {
        id: reference,
        object: "payment_intent",
        amount: request.amount,
        currency: request.currency.toLowerCase(),
        metadata: { payment_id: String(request.paymentId) },
      };
      const followUp = () =>
        verdict.succeeds
          ? deliver("payment_intent.succeeded", {
            ...intent,
            status: "succeeded",
            amount_received: request.amount,
            latest_charge: `sbx_ch_${reference.slice(7)}`,
          })
          : deliver("payment_intent.payment_failed", {
            ...intent,
            status: "requires_payment_method",
            amount_received: 0,
            last_payment_error: { message: verdict.reason },
          });
      return { reference, clientSecret: `${reference}_secret_sandbox`, followUp };
    },
    async refund(request, log) {
      const reference = `sbx_re_${crypto.randomUUID().replaceAll("-", "")}`;
      await answered(log, "refund.create", request.paymentId, `${reference} succeeded`);
      return { reference, status: "succeeded" };
    },
    readEvent: (webhook) => verifiedStripeEvent(webhook, secret, options.toleranceSeconds),
    confirm: (event) => Promise.resolve(event.outcome),
  };
  return Object.assign(provider, { secretForTests: secret });
}

function decide(request: ChargeRequest): { succeeds: boolean; reason?: string } {
  if (request.method === "mpesa") {
    const verdict = SANDBOX_PHONES[request.phoneNumber ?? ""];
    if (!verdict) throw invalid("/phone_number", `Not a sandbox test number: use ${Object.keys(SANDBOX_PHONES)[0]}`);
    return verdict;
  }
  const verdict = SANDBOX_CARDS[request.cardNumber ?? ""];
  if (!verdict) throw invalid("/card_number", `Not a sandbox test card: use ${Object.keys(SANDBOX_CARDS)[0]}`);
  return verdict;
}

async function sign(secret: string, timestamp: number, payload: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${timestamp}.${payload}`));
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}
