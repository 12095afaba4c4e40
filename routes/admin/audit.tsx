/** The audit log: filters (user, patient, table, action, outcome, time), a row's detail, verification. */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  type AuditAction,
  type AuditOutcome,
  listEvents,
  readEvent,
  verifyTrail,
} from "../../services/audit_logs.ts";
import { AUDIT_READ } from "./access.ts";
import { ChainStatus } from "./dashboard.tsx";
import { Layout, Pager } from "./layout.tsx";
import { declarePage, pageOf, positiveInt, sessionOf, stepContext, text } from "./page.ts";
import { ChoiceFilter, ListTable } from "./list_table.tsx";

const FIELDS = ["user", "patient", "table", "action", "outcome", "from", "to"] as const;

export function auditPages(app: Hono<AppEnv>) {
  declarePage(app, {
    method: "get",
    path: "/admin/audit",
    access: AUDIT_READ,
    audit: { action: "list", table: "audit_logs" },
    mirrors: "GET /auditlogs",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const q = Object.fromEntries(FIELDS.map((f) => [f, text(c.req.query(f), 64)])) as Record<
      typeof FIELDS[number],
      string | undefined
    >;
    const action = (AUDIT_ACTIONS as readonly string[]).includes(q.action ?? "") ? q.action as AuditAction : undefined;
    const outcome = (AUDIT_OUTCOMES as readonly string[]).includes(q.outcome ?? "")
      ? q.outcome as AuditOutcome
      : undefined;
    const filters = {
      user: positiveInt(q.user),
      patient: positiveInt(q.patient),
      targetTable: q.table,
      action,
      outcome,
      from: instant(q.from),
      to: instant(q.to),
    };
    const asked = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
    const slice = await listEvents(stepContext(c), filters, pageOf(c, "-event_timestamp"), asked);
    return c.html(
      <Layout title="Audit log" principal={principal} csrf={csrf}>
        <form class="filters" method="get">
          <label>
            User id <input name="user" value={q.user ?? ""} inputmode="numeric" />
          </label>
          <label>
            Patient id <input name="patient" value={q.patient ?? ""} inputmode="numeric" />
          </label>
          <label>
            Table <input name="table" value={q.table ?? ""} />
          </label>
          <ChoiceFilter label="Action" name="action" choices={AUDIT_ACTIONS} selected={action} />
          <ChoiceFilter label="Outcome" name="outcome" choices={AUDIT_OUTCOMES} selected={outcome} />
          <label>
            From <input name="from" type="datetime-local" value={q.from ?? ""} />
          </label>
          <label>
            To <input name="to" type="datetime-local" value={q.to ?? ""} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <ListTable
          headers={["Id", "When", "User", "Action", "Table", "Target", "Outcome", "Via"]}
          rows={slice.rows}
          cells={(r) => [
            <a href={`/admin/audit/${r.id}`}>{r.id}</a>,
            r.eventTimestamp.toISOString(),
            r.userId ?? "",
            r.action,
            r.targetTable ?? "",
            r.targetId ?? "",
            { value: r.outcome, class: r.outcome === "success" ? "" : "bad" },
            String((r.details as Record<string, unknown> | null)?.via ?? "api"),
          ]}
        />
        <Pager base="/admin/audit" query={q} next={slice.next} previous={slice.previous} />
      </Layout>,
    );
  });

  declarePage(app, {
    method: "get",
    path: "/admin/audit/:id",
    access: AUDIT_READ,
    audit: { action: "read", table: "audit_logs" },
    mirrors: "GET /auditlogs/{id}",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const r = await readEvent(stepContext(c), positiveInt(c.req.param("id")) ?? 0);
    return c.html(
      <Layout title={`Audit record ${r.id}`} principal={principal} csrf={csrf}>
        <table>
          <tbody>
            <tr>
              <th>When</th>
              <td>{r.eventTimestamp.toISOString()}</td>
            </tr>
            <tr>
              <th>User</th>
              <td>{r.userId ?? "—"} {r.role ?? ""}</td>
            </tr>
            <tr>
              <th>Action</th>
              <td>{r.action}</td>
            </tr>
            <tr>
              <th>Outcome</th>
              <td>{r.outcome}</td>
            </tr>
            <tr>
              <th>Target</th>
              <td>{r.targetTable ?? "—"} {r.targetId ?? ""}</td>
            </tr>
            <tr>
              <th>Patients</th>
              <td>{(r.patientIds ?? []).join(", ")}</td>
            </tr>
            <tr>
              <th>From</th>
              <td>{r.ipAddress ?? ""} {r.userAgent ?? ""}</td>
            </tr>
            <tr>
              <th>Request</th>
              <td>{r.requestId ?? ""}</td>
            </tr>
            <tr>
              <th>Chain</th>
              <td>{r.chainSeq ?? "not sealed yet"}</td>
            </tr>
          </tbody>
        </table>
        <h2>Details</h2>
        <pre>{JSON.stringify(r.details, null, 2)}</pre>
      </Layout>,
    );
  });

  declarePage(app, {
    method: "post",
    path: "/admin/audit/verify",
    access: AUDIT_READ,
    audit: { action: "read", table: "audit_logs" },
    mirrors: "GET /auditlogs/verify",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const report = await verifyTrail(stepContext(c));
    return c.html(
      <Layout title="Audit chain verification" principal={principal} csrf={csrf}>
        <ChainStatus report={report} csrf={csrf} />
      </Layout>,
    );
  });
}

/** A `datetime-local` value, read as UTC. */
function instant(value: string | undefined): Date | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return undefined;
  const date = new Date(`${value}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
