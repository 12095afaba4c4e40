/**
 * One interface for every payment provider. A provider starts collecting a payment, refunds one,
 * reads (and verifies) its inbound webhooks, and confirms what an event announced where the event
 * alone is not its word. It never touches the database: every call it makes is reported to a
 * `CallLog` (the unit of work's integration log), and its failures are domain errors — 503
 * `provider-unavailable` when it cannot be reached, 422 `payment-refused` when it said no.
 */
import type { IntegrationLogEntry } from "../../db/integration_logs.ts";
import type { Outcome } from "../payment_rules.ts";

export const PAYMENT_PROVIDERS = ["sandbox", "stripe", "mpesa"] as const;
export type ProviderName = typeof PAYMENT_PROVIDERS[number];
export const PAYMENT_METHODS = ["card", "mpesa"] as const;
export type PaymentMethod = typeof PAYMENT_METHODS[number];

/** Where each outbound call is reported (one entry per attempt, with its latency). */
export type CallLog = (entry: IntegrationLogEntry) => Promise<void>;

export interface ChargeRequest {
  paymentId: number;
  /** Minor units. */
  amount: number;
  currency: string;
  method: PaymentMethod;
  /** 254XXXXXXXXX, for M-Pesa. */
  phoneNumber?: string;
  /** The sandbox's test card numbers only; real card details never reach this API. */
  cardNumber?: string;
  /** Passed to the provider, so its own retries never act twice. */
  idempotencyKey: string;
}

export interface Charge {
  /**
   * The provider's id of the payment (PaymentIntent id, CheckoutRequestID, …); null when the
   * request got no answer and may have been acted on: the provider's callback will name it.
   */
  reference: string | null;
  /** What the front end needs to confirm the payment with the provider (Stripe's client secret). */
  clientSecret?: string;
  /** Work to run once the payment is committed (the sandbox delivers its event then). */
  followUp?: () => Promise<void>;
}

export interface RefundRequest {
  paymentId: number;
  reference: string;
  amount: number;
  currency: string;
  idempotencyKey: string;
}

export interface Refund {
  reference: string;
  /** `succeeded`: the money went back; `pending`: the provider's later event settles it. */
  status: "succeeded" | "pending";
}

export interface InboundWebhook {
  /** The body exactly as received (signatures cover the bytes). */
  body: string;
  headers: Headers;
  /** The path's secret segment, for providers that sign nothing (M-Pesa). */
  pathToken?: string;
  /** The payment the callback URL names (M-Pesa: for a push whose answer never came). */
  paymentId?: number;
  at: Date;
}

/** A verified event: its id (replays are recognised by it), the payment it names, and what it says. */
export type ProviderEvent =
  | { id: string; name: string; reference: string; outcome: Outcome; paymentId?: number }
  | { id: string; name: string; reference?: string; outcome: null };

export interface PaymentProvider {
  readonly name: ProviderName;
  readonly methods: readonly PaymentMethod[];
  /** Starts collecting a payment; nothing is taken until the provider says so in an event. */
  charge(request: ChargeRequest, log: CallLog): Promise<Charge>;
  refund(request: RefundRequest, log: CallLog): Promise<Refund>;
  /** Verifies a webhook before anything else and reads its event; `Malformed` (400) or `NotFound` when not genuine. */
  readEvent(webhook: InboundWebhook): Promise<ProviderEvent>;
  /** The provider's own word on an event's outcome (M-Pesa: an STK query; Stripe: cancelling a failed intent). */
  confirm(event: ProviderEvent & { outcome: Outcome }, log: CallLog): Promise<Outcome>;
  /** The body the provider expects for an accepted webhook. */
  readonly acknowledgement: Record<string, unknown>;
  /** The sandbox delivers its events through the app itself, as a provider's request would arrive. */
  connect?(dispatch: (request: Request) => Promise<Response>): void;
}
