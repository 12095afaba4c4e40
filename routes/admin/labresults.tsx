/** Lab results: the list, gated like `GET /labresults` (a billing clerk gets the 403 page). */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { listLabResults } from "../../services/lab_results.ts";
import { LABRESULTS_READ } from "./access.ts";
import { Layout, Pager } from "./layout.tsx";
import { declarePage, pageOf, positiveInt, sessionOf, stepContext } from "./page.ts";
import { ListTable } from "./list_table.tsx";

export function labResultPages(app: Hono<AppEnv>) {
  declarePage(app, {
    method: "get",
    path: "/admin/labresults",
    access: LABRESULTS_READ,
    audit: { action: "list", table: "lab_results" },
    mirrors: "GET /labresults",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const q = { patient: c.req.query("patient") };
    const slice = await listLabResults(stepContext(c), { patient: positiveInt(q.patient) }, pageOf(c));
    return c.html(
      <Layout title="Lab results" principal={principal} csrf={csrf}>
        <form class="filters" method="get">
          <label>
            Patient id <input name="patient" value={q.patient ?? ""} inputmode="numeric" />
          </label>
          <button type="submit">Filter</button>
        </form>
        <ListTable
          headers={["Id", "Patient", "Test", "Status", "Date"]}
          rows={slice.rows}
          cells={({ result: r }) => [r.id, r.patientId, r.testType, r.status, r.resultDate.toISOString()]}
        />
        <Pager base="/admin/labresults" query={q} next={slice.next} previous={slice.previous} />
      </Layout>,
    );
  });
}
