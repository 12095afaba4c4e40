/** Appointments: one doctor's day or week, and cancelling one with a reason. */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { changeAppointment, listAppointments } from "../../services/appointments.ts";
import { isoOf } from "../../services/clock.ts";
import { APPOINTMENTS_READ, APPOINTMENTS_WRITE } from "./access.ts";
import { ActionForm, Layout, Pager } from "./layout.tsx";
import { declarePage, mayOpen, pageOf, positiveInt, sessionOf, stepContext, text } from "./page.ts";

export function appointmentPages(app: Hono<AppEnv>) {
  declarePage(app, {
    method: "get",
    path: "/admin/appointments",
    access: APPOINTMENTS_READ,
    audit: { action: "list", table: "appointments" },
    mirrors: "GET /appointments",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const today = c.get("deps").clock().toISOString().slice(0, 10);
    const date = /^\d{4}-\d{2}-\d{2}$/.test(c.req.query("date") ?? "") ? c.req.query("date")! : today;
    const view = c.req.query("view") === "week" ? "week" : "day";
    const q = { doctor: c.req.query("doctor"), date, view };
    const from = new Date(`${date}T00:00:00Z`);
    const to = new Date(from.getTime() + (view === "week" ? 7 : 1) * 86_400_000);
    const filters = { doctor: positiveInt(q.doctor), from, to };
    const slice = await listAppointments(stepContext(c), filters, pageOf(c, "appointment_date"));
    const cancel = mayOpen(principal, APPOINTMENTS_WRITE);
    return c.html(
      <Layout title="Appointments" principal={principal} csrf={csrf} notice={text(c.req.query("notice"))}>
        <form class="filters" method="get">
          <label>
            Doctor id <input name="doctor" value={q.doctor ?? ""} inputmode="numeric" />
          </label>
          <label>
            From (UTC) <input name="date" type="date" value={date} />
          </label>
          <label>
            View
            <select name="view">
              <option selected={view === "day"}>day</option>
              <option selected={view === "week"}>week</option>
            </select>
          </label>
          <button type="submit">Show</button>
        </form>
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>When (UTC)</th>
              <th>Doctor</th>
              <th>Patient</th>
              <th>Status</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {slice.rows.map((a) => (
              <tr>
                <td>{a.id}</td>
                <td>{isoOf(a.appointmentDate).slice(0, 16).replace("T", " ")} ({a.durationMinutes} min)</td>
                <td>{a.doctorId}</td>
                <td>{a.patientId}</td>
                <td>{a.status}{a.cancellationReason ? ` (${a.cancellationReason})` : ""}</td>
                <td>
                  {cancel && a.status === "scheduled" && (
                    <ActionForm action={`/admin/appointments/${a.id}/cancel`} csrf={csrf}>
                      <input name="reason" placeholder="reason" required maxlength={500} />{" "}
                      <button class="danger" type="submit">Cancel</button>
                    </ActionForm>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager base="/admin/appointments" query={q} next={slice.next} previous={slice.previous} />
      </Layout>,
    );
  });

  declarePage(app, {
    method: "post",
    path: "/admin/appointments/:id/cancel",
    access: APPOINTMENTS_WRITE,
    audit: { action: "update", table: "appointments" },
    mirrors: "PATCH /appointments/{id}",
  }, async (c) => {
    const form = await c.req.parseBody();
    const id = positiveInt(c.req.param("id")) ?? 0;
    const reason = text(form.reason, 5000) ?? "";
    await changeAppointment(stepContext(c), id, { status: "cancelled", cancellation_reason: reason });
    return c.redirect(`/admin/appointments?notice=${encodeURIComponent(`Appointment ${id} cancelled`)}`, 303);
  });
}
