/** Lab results: the list, gated like `GET /labresults` (a billing clerk gets the 403 page). */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { listLabResults } from "../../services/lab_results.ts";
import { LABRESULTS_READ } from "./access.ts";
import { Layout, Pager } from "./layout.tsx";
import { declarePage, pageOf, positiveInt, sessionOf, stepContext } from "./page.ts";

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
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>Patient</th>
              <th>Test</th>
              <th>Status</th>
              <th>Date</th>
            </tr>
          </thead>
          <tbody>
            {slice.rows.map(({ result: r }) => (
              <tr>
                <td>{r.id}</td>
                <td>{r.patientId}</td>
                <td>{r.testType}</td>
                <td>{r.status}</td>
                <td>{r.resultDate.toISOString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager base="/admin/labresults" query={q} next={slice.next} previous={slice.previous} />
      </Layout>,
    );
  });
}
