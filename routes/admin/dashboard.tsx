/** The dashboard: counts, the next 14 days' appointments, the last 30 days' payments, the audit chain. */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { verifyTrail } from "../../services/audit_logs.ts";
import type { ChainReport } from "../../services/audit_verify.ts";
import { readDashboard } from "../../services/dashboard.ts";
import { BarChart } from "./chart.tsx";
import { ActionForm, Layout } from "./layout.tsx";
import { declarePage, holds, sessionOf, stepContext } from "./page.ts";

export function dashboardPages(app: Hono<AppEnv>) {
  declarePage(app, { method: "get", path: "/admin" }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const board = await readDashboard(stepContext(c), {
      users: holds(principal, "users:read:any"),
      appointments: holds(principal, "appointments:read:any"),
      payments: holds(principal, "payments:read:any"),
    });
    const chain = holds(principal, "auditlogs:read")
      ? await verifyTrail(stepContext(c, { action: "read", table: "audit_logs" }))
      : null;
    return c.html(
      <Layout title="Dashboard" principal={principal} csrf={csrf}>
        {board.users && (
          <div class="cards">
            <div class="card">
              <b>{board.users.total}</b> accounts
            </div>
            <div class="card">
              <b>{board.users.active}</b> active
            </div>
            <div class="card">
              <b>{board.users.suspended}</b> suspended
            </div>
          </div>
        )}
        {board.appointments && (
          <BarChart id="chart-appointments" title="Appointments per day, next 14 days" data={board.appointments} />
        )}
        {board.payments && (
          <BarChart id="chart-payments" title="Completed payments per day, last 30 days" data={board.payments} />
        )}
        {chain && <ChainStatus report={chain} csrf={csrf} />}
      </Layout>,
    );
  });
}

export function ChainStatus(props: { report: ChainReport; csrf: string }) {
  const r = props.report;
  return (
    <section id="audit-chain">
      <h2>Audit chain</h2>
      {r.ok
        ? (
          <p class="ok">
            Verified up to row {r.checkpoint?.chain_seq ?? 0} ({r.sealed} sealed of {r.rows}; {r.unsealed.count}{" "}
            not sealed yet).
          </p>
        )
        : (
          <p class="bad">
            Broken: first bad row {r.firstBadRow?.id ?? "?"} (chain position {r.firstBadRow?.chain_seq ?? "?"}).
          </p>
        )}
      <ActionForm action="/admin/audit/verify" csrf={props.csrf}>
        <button class="quiet" type="submit">Verify again</button>
      </ActionForm>
    </section>
  );
}
