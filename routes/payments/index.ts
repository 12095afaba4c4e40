import { contextOf } from "../../middleware/service_context.ts";
import * as payments from "../../services/payments.ts";
import { refundPayment } from "../../services/payment_refunds.ts";
import { page, pageRequest } from "../_list.ts";
import { newRouter } from "../_route.ts";
import { create, get, list, patch, put, refund, remove } from "./declarations.ts";
import { createdView, paymentView, refundView } from "./views.ts";
import { webhookRoutes } from "./webhooks.ts";

export function paymentRoutes() {
  const app = newRouter();
  // Before /payments/{id}/…, whose id would otherwise take "webhooks".
  app.route("/", webhookRoutes());

  app.openapi(list, async (c) => {
    const { patient, appointment, status, ...q } = c.req.valid("query");
    const slice = await payments.listPayments(contextOf(c), { patient, appointment, status }, pageRequest(q));
    return c.json(page(c, slice, paymentView), 200);
  });

  app.openapi(
    get,
    async (c) => c.json(paymentView(await payments.readPayment(contextOf(c), c.req.valid("param").id)), 200),
  );

  app.openapi(create, async (c) => {
    const { payment_method, phone_number, card_number, ...body } = c.req.valid("json");
    const request = { ...body, paymentMethod: payment_method, phoneNumber: phone_number, cardNumber: card_number };
    const created = await payments.createPayment(contextOf(c, { respond: createdView }), request);
    return c.json(createdView(created), 201);
  });

  for (const route of [put, patch]) {
    app.openapi(route, async (c) => {
      const { notes, ...echoed } = c.req.valid("json");
      const row = await payments.changePayment(contextOf(c), c.req.valid("param").id, { notes, echoed });
      return c.json(paymentView(row), 200);
    });
  }

  app.openapi(remove, (c) => payments.refusePaymentDelete(contextOf(c)));

  app.openapi(refund, async (c) => {
    const result = await refundPayment(
      contextOf(c, { respond: refundView }),
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return c.json(refundView(result), 201);
  });

  return app;
}
