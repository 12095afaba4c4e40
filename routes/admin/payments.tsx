/** Payments: the list (filters, keyset pages), a payment's detail, and an idempotent refund. */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { KeyAlreadyUsed } from "../../services/idempotency.ts";
import { refundPayment } from "../../services/payment_refunds.ts";
import { listPayments, readPayment } from "../../services/payments.ts";
import { PAYMENTS_READ, PAYMENTS_REFUND } from "./access.ts";
import { ActionForm, Layout, Pager } from "./layout.tsx";
import { declarePage, mayOpen, pageOf, positiveInt, sessionOf, stepContext, text } from "./page.ts";
import { ChoiceFilter, ListTable } from "./list_table.tsx";

const READ = { action: "read", table: "payments" } as const;
const STATUSES = ["pending", "completed", "failed", "refunded"];

export function paymentPages(app: Hono<AppEnv>) {
  declarePage(app, {
    method: "get",
    path: "/admin/payments",
    access: PAYMENTS_READ,
    audit: { action: "list", table: "payments" },
    mirrors: "GET /payments",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const q = { patient: c.req.query("patient"), status: c.req.query("status") };
    const status = STATUSES.includes(q.status ?? "") ? q.status : undefined;
    const slice = await listPayments(stepContext(c), { patient: positiveInt(q.patient), status }, pageOf(c));
    return c.html(
      <Layout title="Payments" principal={principal} csrf={csrf}>
        <form class="filters" method="get">
          <label>
            Patient id <input name="patient" value={q.patient ?? ""} inputmode="numeric" />
          </label>
          <ChoiceFilter label="Status" name="status" choices={STATUSES} selected={status} />
          <button type="submit">Filter</button>
        </form>
        <ListTable
          headers={["Id", "Patient", "Amount", "Status", "Refunded", "Created"]}
          rows={slice.rows}
          cells={(p) => [
            <a href={`/admin/payments/${p.id}`}>{p.id}</a>,
            p.patientId,
            money(p.amount, p.currency),
            p.status,
            money(p.refundedAmount, p.currency),
            p.createdAt.toISOString(),
          ]}
        />
        <Pager base="/admin/payments" query={q} next={slice.next} previous={slice.previous} />
      </Layout>,
    );
  });

  declarePage(app, {
    method: "get",
    path: "/admin/payments/:id",
    access: PAYMENTS_READ,
    audit: READ,
    mirrors: "GET /payments/{id}",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const p = await readPayment(stepContext(c), positiveInt(c.req.param("id")) ?? 0);
    const refundable = p.status === "completed" && mayOpen(principal, PAYMENTS_REFUND);
    return c.html(
      <Layout title={`Payment ${p.id}`} principal={principal} csrf={csrf} notice={c.req.query("notice")}>
        <table>
          <tbody>
            <tr>
              <th>Patient</th>
              <td>{p.patientId}</td>
            </tr>
            <tr>
              <th>Appointment</th>
              <td>{p.appointmentId}</td>
            </tr>
            <tr>
              <th>Amount</th>
              <td>{money(p.amount, p.currency)}</td>
            </tr>
            <tr>
              <th>Status</th>
              <td>{p.status}</td>
            </tr>
            <tr>
              <th>Refunded</th>
              <td>{money(p.refundedAmount, p.currency)}</td>
            </tr>
            <tr>
              <th>Provider</th>
              <td>{p.provider} {p.providerReference ?? ""}</td>
            </tr>
            <tr>
              <th>Created</th>
              <td>{p.createdAt.toISOString()}</td>
            </tr>
          </tbody>
        </table>
        {refundable && (
          <>
            <h2>Refund</h2>
            <ActionForm action={`/admin/payments/${p.id}/refunds`} csrf={csrf} class="filters">
              <input type="hidden" name="idempotency_key" value={`console-${crypto.randomUUID()}`} />
              <label>
                Amount (minor units; empty: all that is left)
                <input name="amount" inputmode="numeric" />
              </label>
              <label>
                Reason <input name="reason" maxlength={500} />
              </label>
              <button class="danger" type="submit">Refund</button>
            </ActionForm>
          </>
        )}
      </Layout>,
    );
  });

  declarePage(app, {
    method: "post",
    path: "/admin/payments/:id/refunds",
    access: PAYMENTS_REFUND,
    audit: { action: "update", table: "payments" },
    mirrors: "POST /payments/{id}/refunds",
  }, async (c) => {
    const { principal } = sessionOf(c);
    const id = positiveInt(c.req.param("id")) ?? 0;
    const form = await c.req.parseBody();
    const key = text(form.idempotency_key, 255);
    // The form's key: submitting it twice refunds once (the second finds the key answered).
    if (key) c.set("idempotency", { userId: principal.userId, key, requestHash: `console-refund:${id}` });
    try {
      const amount = positiveInt(form.amount);
      await refundPayment(stepContext(c), id, { amount, reason: text(form.reason, 500) });
    } catch (e) {
      if (!(e instanceof KeyAlreadyUsed)) throw e;
      return c.redirect(`/admin/payments/${id}?notice=${encodeURIComponent("This refund was already submitted")}`, 303);
    }
    return c.redirect(`/admin/payments/${id}?notice=Refunded`, 303);
  });
}

function money(minor: number, currency: string): string {
  return `${(minor / 100).toFixed(2)} ${currency}`;
}
