/**
 * Safaricom Daraja over fetch: an OAuth client-credentials token (cached until it expires), STK
 * push (`Password` = base64(shortcode + passkey + timestamp), whole shillings, 254XXXXXXXXX), and
 * the callback at an unguessable per-deployment path. Daraja signs nothing, so a callback moves
 * a payment only once an STK query (idempotent, so retried) confirms it: `ResultCode` 0 is
 * completed, any other failed with its `ResultDesc`. STK push itself is never retried, and a push
 * that got no answer may still have reached the phone: the payment stays pending without a
 * reference, and its callback (whose URL names the payment) settles it once the query confirms.
 */
import { Conflict, Invalid, Malformed, NotFound } from "../../errors.ts";
import type { Clock } from "../clock.ts";
import { maskPhone, type Outcome, wholeShillings } from "../payment_rules.ts";
import { type CallBudget, callProvider, type Failure, OutcomeUnknown } from "./calls.ts";
import type { CallLog, PaymentProvider } from "./provider.ts";

export interface MpesaSettings {
  apiUrl: string;
  consumerKey: string;
  consumerSecret: string;
  shortcode: string;
  passkey: string;
  callbackToken: string;
  /** Where Daraja posts the result: `<PUBLIC_URL>/payments/webhooks/mpesa/<token>/`. */
  callbackUrl: string;
  budget: CallBudget;
  clock: Clock;
}

/** Fetch's words for a request that never left: no connection was made. */
const NOT_SENT = /\(Connect\)|tcp connect error|dns error|Connection refused/i;

/** Daraja's answer to an STK query while the customer has not answered yet. */
const STILL_PROCESSING = "500.001.1001";

class DarajaAnswer extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(
      `HTTP ${status} ${String(body.errorCode ?? body.ResponseCode ?? "")} ${
        String(body.errorMessage ?? body.ResponseDescription ?? "")
      }`,
    );
  }
}

export function mpesaProvider(s: MpesaSettings): PaymentProvider {
  const base = s.apiUrl.replace(/\/+$/, "");
  const secrets = [s.consumerKey, s.consumerSecret, s.passkey, s.callbackToken];
  let token: { value: string; expiresAt: number } | undefined;

  const request = async (path: string, init: RequestInit, timeout: number) => {
    const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(timeout) });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { errorMessage: text.slice(0, 200) };
    }
    if (!res.ok) throw new DarajaAnswer(res.status, body);
    return body;
  };
  const call = <T>(
    log: CallLog,
    operation: string,
    reference: string,
    idempotent: boolean,
    run: (t: number) => Promise<T>,
    describe?: (r: T) => string,
  ) =>
    callProvider({
      system: "mpesa",
      operation,
      reference,
      idempotent,
      budget: s.budget,
      log,
      secrets,
      run,
      classify,
      describe,
    });

  const bearer = async (log: CallLog) => {
    if (token && token.expiresAt > s.clock().getTime()) return token.value;
    const basic = btoa(`${s.consumerKey}:${s.consumerSecret}`);
    const body = await call(
      log,
      "oauth.token",
      "client_credentials",
      true,
      (t) =>
        request(
          "/oauth/v1/generate?grant_type=client_credentials",
          { headers: { authorization: `Basic ${basic}` } },
          t,
        ),
    );
    const seconds = Number(body.expires_in ?? 3599);
    token = { value: String(body.access_token), expiresAt: s.clock().getTime() + Math.max(0, seconds - 60) * 1000 };
    return token.value;
  };
  const signed = () => {
    const timestamp = darajaTimestamp(s.clock());
    return {
      BusinessShortCode: s.shortcode,
      Password: btoa(`${s.shortcode}${s.passkey}${timestamp}`),
      Timestamp: timestamp,
    };
  };
  const post = async (log: CallLog, path: string, payload: unknown, t: number) =>
    request(path, {
      method: "POST",
      headers: { authorization: `Bearer ${await bearer(log)}`, "content-type": "application/json" },
      body: JSON.stringify(payload),
    }, t);

  return {
    name: "mpesa",
    methods: ["mpesa"],
    acknowledgement: { ResultCode: 0, ResultDesc: "Accepted" },
    async charge(req, log) {
      const shillings = wholeShillings(req.amount, req.currency);
      if (!req.phoneNumber) throw new Invalid([{ pointer: "/phone_number", detail: "Required for M-Pesa" }]);
      await bearer(log);
      const callbackUrl = new URL(s.callbackUrl);
      callbackUrl.searchParams.set("payment", String(req.paymentId));
      const body = await call(
        log,
        "stkpush",
        `payment:${req.paymentId}`,
        false,
        (t) =>
          post(log, "/mpesa/stkpush/v1/processrequest", {
            ...signed(),
            TransactionType: "CustomerPayBillOnline",
            Amount: shillings,
            PartyA: req.phoneNumber,
            PartyB: s.shortcode,
            PhoneNumber: req.phoneNumber,
            CallBackURL: callbackUrl.href,
            AccountReference: `P${req.paymentId}`,
            TransactionDesc: `Payment ${req.paymentId}`,
          }, t),
        (b) => `${b.CheckoutRequestID} to ${maskPhone(req.phoneNumber!)}`,
      ).catch((e) => {
        if (e instanceof OutcomeUnknown) return null;
        throw e;
      });
      if (body === null) return { reference: null };
      if (String(body.ResponseCode) !== "0" || typeof body.CheckoutRequestID !== "string") {
        throw new Invalid(
          [],
          `M-Pesa refused the request: ${String(body.ResponseDescription ?? "")}`,
          "payment-refused",
        );
      }
      return { reference: body.CheckoutRequestID };
    },
    refund() {
      return Promise.reject(
        new Conflict(
          "refund-not-supported",
          "M-Pesa payments are refunded by a reversal in the Daraja portal, not here",
        ),
      );
    },
    readEvent(webhook) {
      if (!webhook.pathToken || !sameText(webhook.pathToken, s.callbackToken)) return Promise.reject(new NotFound());
      let callback: Record<string, unknown> | undefined;
      try {
        callback = JSON.parse(webhook.body)?.Body?.stkCallback;
      } catch { /* refused below */ }
      const reference = callback?.CheckoutRequestID;
      if (typeof reference !== "string" || reference.length > 200) {
        return Promise.reject(new Malformed("invalid-callback", "Not an STK callback"));
      }
      const items = (callback?.CallbackMetadata as { Item?: { Name?: string; Value?: unknown }[] })?.Item ?? [];
      const receipt = items.find((i) => i.Name === "MpesaReceiptNumber")?.Value;
      // What the callback claims is only a hint: `confirm` asks Daraja.
      const claim: Outcome = { type: "succeeded", receipt: typeof receipt === "string" ? receipt : undefined };
      return Promise.resolve({
        id: `${reference}:${String(callback?.ResultCode)}`,
        name: "stkCallback",
        reference,
        outcome: claim,
        ...(webhook.paymentId === undefined ? {} : { paymentId: webhook.paymentId }),
      });
    },
    async confirm(event, log): Promise<Outcome> {
      const body = await call(log, "stkpushquery", `checkout:${event.reference}`, true, async (t) => {
        try {
          return await post(
            log,
            "/mpesa/stkpushquery/v1/query",
            { ...signed(), CheckoutRequestID: event.reference },
            t,
          );
        } catch (e) {
          if (e instanceof DarajaAnswer && e.body.errorCode === STILL_PROCESSING) return { pending: true };
          throw e;
        }
      }, (b) => (b.pending ? "still processing" : `ResultCode ${b.ResultCode}`));
      if (body.pending || body.ResultCode === undefined) return { type: "pending" };
      if (String(body.ResultCode) === "0") {
        return { type: "succeeded", receipt: event.outcome.type === "succeeded" ? event.outcome.receipt : undefined };
      }
      return { type: "failed", reason: String(body.ResultDesc ?? "The M-Pesa payment failed") };
    },
  };
}

/**
 * Network errors, timeouts, 429 and 5xx may be tried again (for the idempotent calls); a 4xx is
 * Daraja's no. A network error other than a refused connection came after the request may have
 * gone out: unanswered.
 */
function classify(error: unknown): Failure {
  if (!(error instanceof DarajaAnswer)) {
    const message = String((error as Error)?.message);
    return { transient: true, detail: `no answer: ${message}`, unanswered: !NOT_SENT.test(message) };
  }
  if (error.status === 429 || error.status >= 500) return { transient: true, detail: error.message };
  const said = String(error.body.errorMessage ?? error.body.ResponseDescription ?? "refused");
  return {
    transient: false,
    detail: error.message,
    error: new Invalid([], `M-Pesa refused the request: ${said}`, "payment-refused"),
  };
}

/** YYYYMMDDHHmmss in East Africa Time (UTC+3), as Daraja wants it. */
export function darajaTimestamp(at: Date): string {
  return new Date(at.getTime() + 3 * 3600_000).toISOString().replace(/\D/g, "").slice(0, 14);
}

function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
