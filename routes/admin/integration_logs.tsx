/** Integration logs: exchanges with payment providers and other systems, filtered by system and status. */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { listEntries } from "../../services/integration_logs.ts";
import { INTEGRATIONLOGS_READ } from "./access.ts";
import { Layout, Pager } from "./layout.tsx";
import { declarePage, pageOf, sessionOf, stepContext, text } from "./page.ts";
import { ChoiceFilter, ListTable } from "./list_table.tsx";

const STATUSES = ["pending", "success", "failed"] as const;

export function integrationLogPages(app: Hono<AppEnv>) {
  declarePage(app, {
    method: "get",
    path: "/admin/integrationlogs",
    access: INTEGRATIONLOGS_READ,
    audit: { action: "list", table: "integration_logs" },
    mirrors: "GET /integrationlogs",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const q = { system: text(c.req.query("system"), 50), status: c.req.query("status") };
    const status = STATUSES.find((s) => s === q.status);
    const slice = await listEntries(stepContext(c), { systemName: q.system, syncStatus: status }, pageOf(c, "-id"));
    return c.html(
      <Layout title="Integration logs" principal={principal} csrf={csrf}>
        <form class="filters" method="get">
          <label>
            System <input name="system" value={q.system ?? ""} />
          </label>
          <ChoiceFilter label="Status" name="status" choices={STATUSES} selected={status} />
          <button type="submit">Filter</button>
        </form>
        <ListTable
          headers={["Id", "When", "System", "Data", "Status", "Attempt", "Detail"]}
          rows={slice.rows}
          cells={(r) => [
            r.id,
            r.createdAt.toISOString(),
            r.systemName,
            `${r.dataType} ${r.dataReference}`,
            { value: r.syncStatus, class: r.syncStatus === "failed" ? "bad" : "" },
            r.attempt,
            r.detail,
          ]}
        />
        <Pager base="/admin/integrationlogs" query={q} next={slice.next} previous={slice.previous} />
      </Layout>,
    );
  });
}
