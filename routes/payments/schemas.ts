import { z } from "@hono/zod-openapi";
import { MAX_ROW_ID } from "../../services/ids.ts";
import { MAX_AMOUNT, PAYMENT_STATUSES } from "../../services/payment_rules.ts";
import { PAYMENT_METHODS, PAYMENT_PROVIDERS } from "../../services/payment_providers/provider.ts";
import { pageQuery } from "../_list.ts";
import { idText, ownerField } from "../_schemas.ts";

/** Integer minor units (cents, pence, shillings × 100): a string, a fraction, zero or a negative number is 422. */
const amount = z.number().int().positive().max(MAX_AMOUNT);
const currency = z.string().regex(/^[A-Z]{3}$/, "An ISO 4217 code in capitals, such as USD or KES");
const notes = z.string().max(1000);

export const Payment = z.object({
  id: z.number().int(),
  patient: z.number().int(),
  appointment: z.number().int(),
  amount: z.number().int().openapi({ description: "Minor units of `currency`" }),
  currency: z.string(),
  payment_method: z.enum(PAYMENT_METHODS),
  status: z.enum(PAYMENT_STATUSES),
  provider: z.enum(PAYMENT_PROVIDERS),
  provider_reference: z.string().nullable(),
  provider_receipt: z.string().nullable().openapi({ description: "Stripe charge id or M-Pesa receipt, once paid" }),
  refunded_amount: z.number().int(),
  failure_reason: z.string().nullable(),
  notes: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Payment");

export const PaymentCreated = Payment.extend({
  client_secret: z.string().nullable().openapi({
    description: "Stripe: the PaymentIntent's client secret, for the front end to confirm the payment with Stripe.js",
  }),
}).openapi("PaymentCreated");

export const PaymentCreate = z.strictObject({
  patient: ownerField.optional().openapi({ description: "A patient pays for themselves: omit it or send your own id" }),
  appointment: z.number().int().positive().max(MAX_ROW_ID),
  amount: amount.optional().openapi({ description: "At most the balance; the whole balance when omitted" }),
  currency: currency.optional().openapi({ description: "Must be the appointment's (the doctor's fee currency)" }),
  payment_method: z.enum(PAYMENT_METHODS),
  phone_number: z.string().max(20).optional().openapi({ description: "M-Pesa: the payer's phone, e.g. 254708374149" }),
  card_number: z.string().regex(/^[0-9]{12,19}$/, "Digits only").optional().openapi({
    description: "The sandbox's test card numbers only (README); refused by real providers",
  }),
  notes: notes.optional(),
}).openapi("PaymentCreate");

/** PATCH and PUT: `notes`; every other field may only be echoed unchanged. */
export const PaymentChange = z.strictObject({
  patient: ownerField.optional(),
  appointment: z.number().int().positive().max(MAX_ROW_ID).optional(),
  amount: amount.optional(),
  currency: currency.optional(),
  payment_method: z.enum(PAYMENT_METHODS).optional(),
  status: z.enum(PAYMENT_STATUSES).optional(),
  provider: z.enum(PAYMENT_PROVIDERS).optional(),
  provider_reference: z.string().max(200).nullable().optional(),
  notes: notes.optional(),
});

export const RefundCreate = z.strictObject({
  amount: amount.optional().openapi({ description: "Minor units; what is not refunded yet when omitted" }),
  reason: z.string().max(200).optional(),
}).openapi("RefundCreate");

export const RefundResult = z.object({
  refund: z.object({
    amount: z.number().int(),
    status: z.enum(["succeeded", "pending"]).openapi({
      description: "`pending`: the provider settles it later; the payment changes when it does",
    }),
    provider_reference: z.string(),
  }),
  payment: Payment,
}).openapi("RefundResult");

export const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["created_at", "-created_at", "id", "-id"]).default("-created_at"),
  patient: idText.optional(),
  appointment: idText.optional(),
  status: z.enum(PAYMENT_STATUSES).optional(),
});

export const WebhookAnswer = z.record(z.string(), z.unknown()).openapi("WebhookAnswer");
