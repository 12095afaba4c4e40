/**
 * Provider webhooks: public (the provider has no token), each verified before anything else —
 * Stripe's and the sandbox's by their `Stripe-Signature`, M-Pesa's by the unguessable path
 * segment and an STK query. Only the configured provider's route answers; the others are 404.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { contextOf } from "../../middleware/service_context.ts";
import { parseRowId } from "../../services/ids.ts";
import { receiveWebhook } from "../../services/payment_webhooks.ts";
import type { ProviderName } from "../../services/payment_providers/provider.ts";
import { declareRoute, jsonResponse, newRouter, problems } from "../_route.ts";
import { WebhookAnswer } from "./schemas.ts";

const tags = ["payments"];
const audit = { action: "update", table: "payments" } as const;
const WEBHOOK_BODY_LIMIT = 64 * 1024;
const responses = {
  200: jsonResponse("Accepted (applied, or already applied)", WebhookAnswer),
  ...problems(400, 404, 413),
};

const stripe = declareRoute({
  method: "post",
  path: "/payments/webhooks/stripe",
  operationId: "payments_webhook_stripe",
  tags,
  summary: "Stripe events: payment_intent.succeeded, payment_intent.payment_failed, charge.refunded",
  description: "Refused (400) unless `Stripe-Signature` verifies with the endpoint secret within the tolerance " +
    "window; an event already applied changes nothing.",
  access: { kind: "public", reason: "Stripe calls it; the Stripe-Signature header is the credential" },
  audit,
  bodyLimit: WEBHOOK_BODY_LIMIT,
  responses,
});

const sandbox = declareRoute({
  method: "post",
  path: "/payments/webhooks/sandbox",
  operationId: "payments_webhook_sandbox",
  tags,
  summary: "The sandbox provider's events, signed and verified exactly as Stripe's",
  access: { kind: "public", reason: "the sandbox provider calls it; its signature is the credential" },
  audit,
  bodyLimit: WEBHOOK_BODY_LIMIT,
  responses,
});

const mpesa = declareRoute({
  method: "post",
  path: "/payments/webhooks/mpesa/{token}",
  operationId: "payments_webhook_mpesa",
  tags,
  summary: "M-Pesa STK callbacks, at a per-deployment secret path; confirmed by an STK query before use",
  access: { kind: "public", reason: "Daraja calls it; the secret path segment and an STK query stand for a signature" },
  audit,
  bodyLimit: WEBHOOK_BODY_LIMIT,
  request: {
    params: z.object({ token: z.string().max(200).openapi({ param: { name: "token", in: "path" } }) }),
    // Set by the server in the push's CallBackURL: the payment a callback is for, when the push's
    // own answer (its CheckoutRequestID) never arrived.
    query: z.object({ payment: z.string().max(20).optional() }),
  },
  responses,
});

async function receive(c: Context<AppEnv>, provider: ProviderName, pathToken?: string, paymentId?: number) {
  const body = await c.req.text();
  const webhook = { body, headers: c.req.raw.headers, pathToken, ...(paymentId ? { paymentId } : {}) };
  const answer = await receiveWebhook(contextOf(c), provider, webhook);
  return c.json(answer.body, 200);
}

export function webhookRoutes() {
  const app = newRouter();
  app.openapi(stripe, (c) => receive(c, "stripe"));
  app.openapi(sandbox, (c) => receive(c, "sandbox"));
  app.openapi(mpesa, (c) => receive(c, "mpesa", c.req.valid("param").token, parseRowId(c.req.valid("query").payment)));
  return app;
}
