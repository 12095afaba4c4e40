/** Doctors: the directory, a profile with its weekly hours (editable), and the free slots of a day. */
import type { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { changeDoctor, listDoctors, readDoctor } from "../../services/doctors.ts";
import { doctorFreeSlots } from "../../services/slots.ts";
import { DOCTORS_READ, DOCTORS_WRITE } from "./access.ts";
import { ActionForm, Layout, Pager } from "./layout.tsx";
import { declarePage, mayOpen, pageOf, positiveInt, sessionOf, stepContext, text } from "./page.ts";
import { DAYS, doctorValues } from "./user_form.tsx";
import { ListTable } from "./list_table.tsx";

type Hours = Partial<Record<typeof DAYS[number], { start: string; end: string }[]>>;

export function doctorPages(app: Hono<AppEnv>) {
  declarePage(
    app,
    { method: "get", path: "/admin/doctors", access: DOCTORS_READ, mirrors: "GET /doctors" },
    async (c) => {
      const { principal, csrf } = sessionOf(c);
      const q = { search: text(c.req.query("search"), 100) };
      const slice = await listDoctors(stepContext(c), { search: q.search }, pageOf(c));
      return c.html(
        <Layout title="Doctors" principal={principal} csrf={csrf}>
          <form class="filters" method="get">
            <label>
              Search <input name="search" value={q.search ?? ""} />
            </label>
            <button type="submit">Search</button>
          </form>
          <ListTable
            headers={["Id", "Name", "Specialization", "Time zone"]}
            rows={slice.rows}
            cells={(d) => [
              d.userId,
              <a href={`/admin/doctors/${d.userId}`}>{d.firstName} {d.lastName}</a>,
              d.specialization,
              d.timeZone,
            ]}
          />
          <Pager base="/admin/doctors" query={q} next={slice.next} previous={slice.previous} />
        </Layout>,
      );
    },
  );

  declarePage(app, {
    method: "get",
    path: "/admin/doctors/:id",
    access: DOCTORS_READ,
    mirrors: "GET /doctors/{id}",
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const d = await readDoctor(stepContext(c), positiveInt(c.req.param("id")) ?? 0);
    const hours = (d.workingHours ?? {}) as Hours;
    const date = /^\d{4}-\d{2}-\d{2}$/.test(c.req.query("date") ?? "")
      ? c.req.query("date")!
      : c.get("deps").clock().toISOString().slice(0, 10);
    const free = await doctorFreeSlots(stepContext(c), d.userId, date, 30);
    const time = (t: Date) =>
      t.toLocaleTimeString("en-GB", { timeZone: free.timeZone, hour: "2-digit", minute: "2-digit" });
    const editable = mayOpen(principal, DOCTORS_WRITE);
    return c.html(
      <Layout
        title={`Dr ${d.firstName} ${d.lastName}`}
        principal={principal}
        csrf={csrf}
        notice={text(c.req.query("notice"))}
      >
        <p>{d.specialization} · {d.timeZone} · fee {d.consultationFee} {d.currency}</p>
        <ActionForm action={`/admin/doctors/${d.userId}`} csrf={csrf} class="">
          <fieldset disabled={!editable}>
            <legend>Profile and weekly hours</legend>
            <div class="grid">
              <label>
                First name <input name="first_name" value={d.firstName} maxlength={100} />
              </label>
              <label>
                Last name <input name="last_name" value={d.lastName} maxlength={100} />
              </label>
              <label>
                Specialization <input name="specialization" value={d.specialization} maxlength={100} />
              </label>
              <label>
                Time zone <input name="time_zone" value={d.timeZone} maxlength={64} />
              </label>
              <label>
                Fee <input name="consultation_fee" value={String(d.consultationFee)} />
              </label>
              {DAYS.map((day) => (
                <label>
                  {day}{" "}
                  <input
                    name={`hours_${day}`}
                    value={(hours[day] ?? []).map((i) => `${i.start}-${i.end}`).join(", ")}
                  />
                </label>
              ))}
            </div>
            {editable && <button type="submit">Save</button>}
          </fieldset>
        </ActionForm>
        <h2>Free 30-minute slots</h2>
        <form class="filters" method="get">
          <label>
            Date <input name="date" type="date" value={date} />
          </label>
          <button type="submit">Show</button>
        </form>
        <p id="free-slots">
          {free.slots.length === 0
            ? "None on this day."
            : free.slots.map((s) => `${time(s.start)}–${time(s.end)}`).join(" · ")}
        </p>
      </Layout>,
    );
  });

  declarePage(app, {
    method: "post",
    path: "/admin/doctors/:id",
    access: DOCTORS_WRITE,
    audit: { action: "update", table: "doctor_profiles" },
    mirrors: "PATCH /doctors/{id}",
  }, async (c) => {
    const id = positiveInt(c.req.param("id")) ?? 0;
    const values = doctorValues(await c.req.parseBody());
    await changeDoctor(stepContext(c), id, undefined, values);
    return c.redirect(`/admin/doctors/${id}?notice=Saved`, 303);
  });
}
