/** Who may do what with payments: one screen. */
import { declareRoute, declareUpdate, jsonBody, jsonResponse, problems, ProblemSchema } from "../_route.ts";
import { pageOf } from "../_list.ts";
import { IdParam } from "../_schemas.ts";
import {
  ListQuery,
  Payment,
  PaymentChange,
  PaymentCreate,
  PaymentCreated,
  RefundCreate,
  RefundResult,
} from "./schemas.ts";

const read = {
  kind: "permission",
  permission: "payments:read",
  // Who may refund any payment sees every payment (the contract's billing role: payments:read and payments:refund).
  any: ["payments:read:any", "payments:refund"],
  policy: "payments:own",
} as const;
const TABLE = "payments";
const tags = ["payments"];

export const list = declareRoute({
  method: "get",
  path: "/payments",
  operationId: "payments_list",
  tags,
  summary: "Payments: a patient's own; billing and administrators all",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of payments", pageOf(Payment)), ...problems(400, 401, 403) },
});

export const get = declareRoute({
  method: "get",
  path: "/payments/{id}",
  operationId: "payments_read",
  tags,
  summary: "One payment",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The payment", Payment), ...problems(401, 403, 404) },
});

export const create = declareRoute({
  method: "post",
  path: "/payments",
  operationId: "payments_create",
  tags,
  summary: "Pay for one of your appointments (all of its balance, or part)",
  description: "The amount owed comes from the server: the doctor's `consultation_fee` minus completed payments " +
    "plus refunds. The provider is asked to collect it at once; the payment stays `pending` until the " +
    "provider's signed word moves it. A provider that cannot be reached is 503 `provider-unavailable` with " +
    "`Retry-After`, and nothing is created. One pending payment per appointment (409 `payment-pending`).",
  access: { kind: "permission", permission: "payments:write", policy: "payments:own" },
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(PaymentCreate),
  responses: {
    201: jsonResponse("The pending payment", PaymentCreated),
    ...problems(400, 401, 403, 409, 413, 415, 422, 503),
  },
});

export const [put, patch] = declareUpdate({
  path: "/payments/{id}",
  operationId: "payments",
  tags,
  summary: "Change a payment's notes; nothing else, and no provider is ever called",
  description: "Money fields, status and references are set only by the provider flow and refunds: " +
    "they may be echoed as they are, any other value is 422.",
  access: {
    kind: "permission",
    permission: ["payments:write", "payments:refund"],
    any: "payments:refund",
    policy: "payments:own",
  },
  audit: { action: "update", table: TABLE },
  params: IdParam,
  body: PaymentChange,
  bodyName: "Payment",
  responses: { 200: jsonResponse("The payment", Payment), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const remove = declareRoute({
  method: "delete",
  path: "/payments/{id}",
  operationId: "payments_delete",
  tags,
  summary: "Never allowed: a payment is a record of money (405 for everyone; the attempt is recorded)",
  access: { kind: "signed-in" },
  audit: { action: "delete", table: TABLE },
  request: { params: IdParam },
  responses: {
    405: {
      description: "Payments are never deleted",
      content: { "application/problem+json": { schema: ProblemSchema } },
    },
    ...problems(401),
  },
});

export const refund = declareRoute({
  method: "post",
  path: "/payments/{id}/refunds",
  operationId: "payments_refund",
  tags,
  summary: "Refund a completed payment, in full or in part, through its provider",
  description: "The refund is recorded when the provider says the money went back (at once, or by its later " +
    "event when it answers `pending`); partial refunds keep `completed` with `refunded_amount`.",
  access: { kind: "permission", permission: "payments:refund", policy: "all" },
  audit: { action: "update", table: TABLE },
  idempotent: true,
  request: { params: IdParam, ...jsonBody(RefundCreate) },
  responses: {
    201: jsonResponse("The refund and the payment after it", RefundResult),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422, 503),
  },
});
