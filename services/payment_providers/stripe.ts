/**
 * Stripe through the official SDK: a PaymentIntent per payment (its `client_secret` goes to the
 * front end, which confirms it with Stripe), refunds through the Refunds API, events verified by
 * the SDK's signature check. Every create passes an idempotency key, so the retries here (with
 * backoff, within the timeout) never create twice; the SDK's own retries are off.
 */
import type Stripe from "stripe";
import { Conflict, Invalid } from "../../errors.ts";
import type { Outcome } from "../payment_rules.ts";
import { type CallBudget, callProvider, type Failure, providerUnavailable } from "./calls.ts";
import type { CallLog, PaymentProvider } from "./provider.ts";
import { stripeSdk, verifiedStripeEvent } from "./stripe_events.ts";

export interface StripeSettings {
  secretKey: string;
  webhookSecret: string;
  /** https://api.stripe.com, or a local server in tests. */
  apiUrl: string;
  toleranceSeconds: number;
  budget: CallBudget;
}

export function stripeProvider(settings: StripeSettings): PaymentProvider {
  const url = new URL(settings.apiUrl);
  const protocol = url.protocol === "http:" ? "http" : "https";
  let client: Promise<{ stripe: Stripe; classify: (error: unknown) => Failure }> | undefined;
  const connected = () =>
    client ??= stripeSdk().then((Sdk) => ({
      stripe: new Sdk(settings.secretKey, {
        host: url.hostname,
        port: Number(url.port || (protocol === "http" ? 80 : 443)),
        protocol,
        maxNetworkRetries: 0,
        telemetry: false,
        httpClient: Sdk.createFetchHttpClient(),
      }),
      classify: (error: unknown) => classify(Sdk, error),
    }));
  const secrets = [settings.secretKey, settings.webhookSecret];
  const call = async <T>(
    log: CallLog,
    operation: string,
    reference: string,
    run: (stripe: Stripe, timeout: number) => Promise<T>,
    describe?: (r: T) => string,
  ) => {
    const { stripe, classify } = await connected();
    return callProvider({
      system: "stripe",
      operation,
      reference,
      idempotent: true, // creates carry an idempotency key; the rest are reads or repeat-safe
      budget: settings.budget,
      log,
      secrets,
      run: (timeout) => run(stripe, timeout),
      classify,
      describe,
    });
  };

  return {
    name: "stripe",
    methods: ["card"],
    acknowledgement: { received: true },
    async charge(request, log) {
      const intent = await call(
        log,
        "payment_intent.create",
        `payment:${request.paymentId}`,
        (stripe, timeout) =>
          stripe.paymentIntents.create({
            amount: request.amount,
            currency: request.currency.toLowerCase(),
            allowed_payment_method_types: ["card"],
            metadata: { payment_id: String(request.paymentId) },
          }, { idempotencyKey: request.idempotencyKey, timeout }),
        (pi) => `${pi.id} ${pi.status}`,
      );
      if (!intent.client_secret) throw providerUnavailable(settings.budget.retryAfterSeconds);
      return { reference: intent.id, clientSecret: intent.client_secret };
    },
    async refund(request, log) {
      const refund = await call(
        log,
        "refund.create",
        `payment:${request.paymentId}`,
        (stripe, timeout) =>
          stripe.refunds.create({
            payment_intent: request.reference,
            amount: request.amount,
            metadata: { payment_id: String(request.paymentId) },
          }, { idempotencyKey: request.idempotencyKey, timeout }),
        (r) => `${r.id} ${r.status}`,
      );
      if (refund.status === "failed" || refund.status === "canceled") {
        throw new Conflict("refund-refused", `Stripe did not refund: ${refund.failure_reason ?? refund.status}`);
      }
      return { reference: refund.id, status: refund.status === "succeeded" ? "succeeded" : "pending" };
    },
    readEvent: (webhook) => verifiedStripeEvent(webhook, settings.webhookSecret, settings.toleranceSeconds),
    async confirm(event, log): Promise<Outcome> {
      if (event.outcome.type !== "failed") return event.outcome;
      // A failed attempt leaves the intent open to another; cancelling it makes the failure final.
      const reference = `intent:${event.reference}`;
      try {
        await call(
          log,
          "payment_intent.cancel",
          reference,
          (stripe, timeout) =>
            stripe.paymentIntents.cancel(event.reference, {}, {
              idempotencyKey: `cancel-${event.reference}`,
              timeout,
            }),
        );
        return event.outcome;
      } catch (e) {
        if (!(e instanceof Invalid)) throw e;
      }
      // Not cancellable: it succeeded (or is processing) meanwhile; its own state is the answer.
      const intent = await call(
        log,
        "payment_intent.retrieve",
        reference,
        (stripe, timeout) => stripe.paymentIntents.retrieve(event.reference, {}, { timeout }),
        (pi) => `${pi.id} ${pi.status}`,
      );
      if (intent.status === "succeeded") {
        return {
          type: "succeeded",
          amount: intent.amount_received,
          currency: intent.currency,
          receipt: typeof intent.latest_charge === "string" ? intent.latest_charge : undefined,
        };
      }
      return intent.status === "canceled" ? event.outcome : { type: "pending" };
    },
  };
}

/** Network errors, timeouts, 409 (a concurrent request with the key), 429 and 5xx may be tried again. */
function classify(Sdk: typeof Stripe, error: unknown): Failure {
  if (!(error instanceof Sdk.errors.StripeError)) {
    return { transient: true, detail: `no answer: ${(error as Error)?.message ?? "unknown"}` };
  }
  const status = error.statusCode;
  const detail = `${error.type}${status ? ` ${status}` : ""}${error.code ? ` ${error.code}` : ""}: ${error.message}`;
  if (error instanceof Sdk.errors.StripeConnectionError || status === undefined) return { transient: true, detail };
  if (status === 409 || status === 429 || status >= 500) return { transient: true, detail };
  if (status === 401 || status === 403) {
    // Our credentials were refused: a configuration problem, reported as the provider being unavailable.
    return { transient: false, detail, error: providerUnavailable(60) };
  }
  return {
    transient: false,
    detail,
    error: new Invalid(
      [],
      `The payment provider refused the request: ${error.message}`.slice(0, 300),
      "payment-refused",
    ),
  };
}
