/**
 * Stripe-shaped webhook events (Stripe's own, and the sandbox's, which signs the same way):
 * verified with the official SDK's signature check, then read into the provider-neutral event.
 */
import type Stripe from "stripe";
import { Malformed } from "../../errors.ts";
import type { InboundWebhook, ProviderEvent } from "./provider.ts";

let sdk: Promise<typeof Stripe> | undefined;

/** The SDK, loaded with the first payment call or event rather than at start (about 45 ms and 8 MiB). */
export function stripeSdk(): Promise<typeof Stripe> {
  return sdk ??= import("stripe").then((m) => m.default);
}

let verifying: Promise<{ Sdk: typeof Stripe; verifier: Stripe; cryptoProvider: Stripe.CryptoProvider }> | undefined;
const verification = () =>
  verifying ??= stripeSdk().then((Sdk) => ({
    Sdk,
    verifier: new Sdk("sk_verify_only", { httpClient: Sdk.createFetchHttpClient() }),
    cryptoProvider: Sdk.createSubtleCryptoProvider(),
  }));

/**
 * Checks `Stripe-Signature` (HMAC-SHA256 of `t.payload` with the endpoint secret, timestamp
 * within `toleranceSeconds` of `webhook.at`) before anything reads the body.
 */
export async function verifiedStripeEvent(
  webhook: InboundWebhook,
  secret: string,
  toleranceSeconds: number,
): Promise<ProviderEvent> {
  const signature = webhook.headers.get("stripe-signature");
  if (!signature) throw refusedSignature("The Stripe-Signature header is missing");
  const { Sdk, verifier, cryptoProvider } = await verification();
  let event: Stripe.Event;
  try {
    event = await verifier.webhooks.constructEventAsync(
      webhook.body,
      signature,
      secret,
      toleranceSeconds,
      cryptoProvider,
      webhook.at.getTime(), // milliseconds, as the SDK counts them
    );
  } catch (e) {
    const reason = e instanceof Sdk.errors.StripeSignatureVerificationError ? "does not verify" : "is unreadable";
    throw refusedSignature(`The event signature ${reason} (forged, altered or outside the tolerance window)`);
  }
  return readStripeEvent(event);
}

function refusedSignature(detail: string): Malformed {
  return new Malformed("invalid-webhook-signature", detail);
}

/** The neutral reading of the event types that move a payment; any other is acknowledged and ignored. */
export function readStripeEvent(event: Stripe.Event): ProviderEvent {
  const name = String(event.type);
  const object = (event.data?.object ?? {}) as unknown as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  switch (name) {
    case "payment_intent.succeeded": {
      const reference = text(object.id);
      if (!reference) break;
      const received = typeof object.amount_received === "number" ? object.amount_received : undefined;
      return {
        id: event.id,
        name,
        reference,
        outcome: {
          type: "succeeded",
          amount: received,
          currency: text(object.currency),
          receipt: text(object.latest_charge),
        },
      };
    }
    case "payment_intent.payment_failed":
    case "payment_intent.canceled": {
      const reference = text(object.id);
      if (!reference) break;
      const error = object.last_payment_error as { message?: unknown } | null | undefined;
      const reason = text(error?.message) ??
        (name === "payment_intent.canceled" ? `Cancelled (${text(object.cancellation_reason) ?? "no reason"})` : "");
      return { id: event.id, name, reference, outcome: { type: "failed", reason: reason || "The payment failed" } };
    }
    case "charge.refunded": {
      const reference = text(object.payment_intent);
      const total = object.amount_refunded;
      if (!reference || typeof total !== "number") break;
      return { id: event.id, name, reference, outcome: { type: "refunded", refundedTotal: total } };
    }
  }
  return { id: event.id, name, reference: text(object.id), outcome: null };
}
