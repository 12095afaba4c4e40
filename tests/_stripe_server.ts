/**
 * A local Stripe for tests, over real HTTP: the endpoints the adapter uses (PaymentIntents
 * create, retrieve and cancel, Refunds create) answered with Stripe-shaped JSON, requests with
 * an `Idempotency-Key` deduplicated as Stripe does (same key and parameters: the first answer
 * again; other parameters: 400), every call counted, and events posted to a webhook URL signed
 * exactly as Stripe signs them: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.payload")>`.
 */
export const STRIPE_KEY = "sk_test_local_51Hq0xJ2eZvKYlo2C0ffee";
export const STRIPE_WEBHOOK_SECRET = "whsec_local_6f1c0b8d2e4a4c9b9f0e7d3a1b2c3d4e";

interface Intent {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_received: number;
  currency: string;
  status: string;
  client_secret: string;
  metadata: Record<string, string>;
  latest_charge: string | null;
  last_payment_error: { message: string } | null;
  created: number;
  livemode: false;
}

export interface StripeServer {
  url: string;
  /** Successful creates (distinct PaymentIntents), by endpoint. */
  created: { intents: number; refunds: number };
  /** Every request received, by `METHOD /path`. */
  calls: Map<string, number>;
  /** The Idempotency-Key of each PaymentIntent create received. */
  keys: string[];
  intents: Map<string, Intent>;
  /** `down`: 503 to everything (no state changes); `hang`: no answer for `hangMs`. */
  mode: "up" | "down" | "hang";
  hangMs: number;
  /** Refunds answer `pending` instead of `succeeded`. */
  pendingRefunds: boolean;
  totalCalls(): number;
  /** The customer pays (what Stripe.js confirming would do): the intent succeeds; returns the event object. */
  succeed(id: string): Intent;
  decline(id: string, message?: string): Intent;
  /** Posts a signed event; `timestamp`, `secret` and `signature` override what Stripe would send. */
  send(
    webhookUrl: string,
    type: string,
    object: unknown,
    options?: { id?: string; timestamp?: number; secret?: string; signature?: string },
  ): Promise<{ status: number; body: string; id: string; payload: string; header: string }>;
  close(): Promise<void>;
}

export function startStripeServer(clock: () => Date = () => new Date()): StripeServer {
  const stored = new Map<string, { params: string; status: number; body: string }>();
  const refunded = new Map<string, number>();
  const rand = () => crypto.randomUUID().replaceAll("-", "").slice(0, 24);
  const state: Omit<StripeServer, "url" | "close"> = {
    created: { intents: 0, refunds: 0 },
    calls: new Map(),
    keys: [],
    intents: new Map(),
    mode: "up",
    hangMs: 0,
    pendingRefunds: false,
    totalCalls: () => [...state.calls.values()].reduce((a, b) => a + b, 0),
    succeed(id) {
      const pi = state.intents.get(id)!;
      Object.assign(pi, { status: "succeeded", amount_received: pi.amount, latest_charge: `ch_${rand()}` });
      return { ...pi };
    },
    decline(id, message = "Your card was declined.") {
      const pi = state.intents.get(id)!;
      Object.assign(pi, { status: "requires_payment_method", last_payment_error: { message } });
      return { ...pi };
    },
    async send(webhookUrl, type, object, options = {}) {
      const id = options.id ?? `evt_${rand()}`;
      const timestamp = options.timestamp ?? Math.floor(clock().getTime() / 1000);
      const payload = JSON.stringify({
        id,
        object: "event",
        api_version: "2026-10-28.endive",
        created: timestamp,
        livemode: false,
        type,
        data: { object },
      });
      const signature = options.signature ??
        await hmac(options.secret ?? STRIPE_WEBHOOK_SECRET, `${timestamp}.${payload}`);
      const header = `t=${timestamp},v1=${signature}`;
      const res = await fetch(webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", "stripe-signature": header },
        body: payload,
      });
      return { status: res.status, body: await res.text(), id, payload, header };
    },
  };

  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
  const invalid = (message: string, code?: string) =>
    json(400, { error: { type: "invalid_request_error", message, ...(code ? { code } : {}) } });

  const handle = (method: string, path: string, form: URLSearchParams): Response => {
    const intentPath = path.match(/^\/v1\/payment_intents\/([^/]+)(\/cancel)?$/);
    if (method === "POST" && path === "/v1/payment_intents") {
      const amount = Number(form.get("amount"));
      if (!Number.isInteger(amount) || amount < 1) return invalid("Invalid integer: amount");
      const id = `pi_${rand()}`;
      const pi: Intent = {
        id,
        object: "payment_intent",
        amount,
        amount_received: 0,
        currency: form.get("currency") ?? "usd",
        status: "requires_payment_method",
        client_secret: `${id}_secret_${rand()}`,
        metadata: Object.fromEntries(
          [...form.entries()].filter(([k]) => k.startsWith("metadata[")).map((
            [k, v],
          ) => [k.slice(9, -1), v]),
        ),
        latest_charge: null,
        last_payment_error: null,
        created: Math.floor(clock().getTime() / 1000),
        livemode: false,
      };
      state.intents.set(id, pi);
      state.created.intents++;
      return json(200, pi);
    }
    if (intentPath) {
      const pi = state.intents.get(intentPath[1]);
      if (!pi) {
        return json(404, {
          error: { type: "invalid_request_error", code: "resource_missing", message: "No such payment_intent" },
        });
      }
      if (method === "GET") return json(200, pi);
      if (method === "POST" && intentPath[2]) {
        if (pi.status === "succeeded" || pi.status === "canceled") {
          return invalid(
            `You cannot cancel this PaymentIntent because it has a status of ${pi.status}.`,
            "payment_intent_unexpected_state",
          );
        }
        pi.status = "canceled";
        return json(200, pi);
      }
    }
    if (method === "POST" && path === "/v1/refunds") {
      const pi = state.intents.get(form.get("payment_intent") ?? "");
      if (!pi || pi.status !== "succeeded") return invalid("This PaymentIntent has no successful charge to refund.");
      const amount = Number(form.get("amount") ?? pi.amount_received - (refunded.get(pi.id) ?? 0));
      const left = pi.amount_received - (refunded.get(pi.id) ?? 0);
      if (amount > left) {
        return invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`);
      }
      refunded.set(pi.id, (refunded.get(pi.id) ?? 0) + amount);
      state.created.refunds++;
      const status = state.pendingRefunds ? "pending" : "succeeded";
      return json(200, {
        id: `re_${rand()}`,
        object: "refund",
        amount,
        payment_intent: pi.id,
        status,
        charge: pi.latest_charge,
      });
    }
    return json(404, {
      error: { type: "invalid_request_error", message: `Unrecognized request URL (${method}: ${path})` },
    });
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const name = `${req.method} ${url.pathname}`;
    state.calls.set(name, (state.calls.get(name) ?? 0) + 1);
    if (req.headers.get("authorization") !== `Bearer ${STRIPE_KEY}`) {
      return json(401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
    }
    const text = await req.text();
    if (state.mode === "hang") await new Promise((r) => setTimeout(r, state.hangMs));
    if (state.mode === "down") return json(503, { error: { type: "api_error", message: "Service unavailable" } });
    const key = req.headers.get("idempotency-key");
    if (name === "POST /v1/payment_intents" && key) state.keys.push(key);
    const params = `${name}\n${text}`;
    if (key && req.method === "POST") {
      const first = stored.get(key);
      if (first && first.params !== params) {
        return invalid(
          "Keys for idempotent requests can only be used with the same parameters they were first used with.",
          "idempotency_key_in_use",
        );
      }
      if (first) {
        return new Response(first.body, {
          status: first.status,
          headers: { "content-type": "application/json", "idempotent-replayed": "true" },
        });
      }
    }
    const res = handle(req.method, url.pathname, new URLSearchParams(text));
    if (key && req.method === "POST" && res.status < 500) {
      const body = await res.clone().text();
      stored.set(key, { params, status: res.status, body });
    }
    return res;
  });
  return Object.assign(state, {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  });
}

export async function hmac(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text));
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}
