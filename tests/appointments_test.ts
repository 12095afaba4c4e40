import { assertEquals } from "@std/assert";
import { and, count, eq } from "drizzle-orm";
import { appointments, auditLogs, doctorProfiles } from "../db/schema.ts";
import { type Actor, appTest, type TestApp } from "./_fixtures.ts";

/** Tests run on a fixed clock: Monday 2031-01-06 06:00 UTC. */
const NOW = new Date("2031-01-06T06:00:00Z");
const at = (iso: string) => new Date(iso).toISOString();
const hoursFromNow = (h: number) => new Date(NOW.getTime() + h * 3600_000).toISOString();
const strip = (b: Record<string, unknown>) => ({ ...b, request_id: null });

async function setUp(api: TestApp) {
  api.clock.current = new Date(NOW);
  const [patient, other, doctor, admin] = [
    await api.makePatient(),
    await api.makePatient(),
    await api.makeDoctor(),
    await api.makeAdmin(),
  ];
  return { patient, other, doctor, admin };
}

async function token(api: TestApp, actor: Actor): Promise<string> {
  return (await api.signIn(actor)).access;
}

async function book(api: TestApp, tok: string, body: Record<string, unknown>) {
  return await api.request("POST", "/appointments/", { token: tok, body });
}

async function rows(api: TestApp) {
  return await api.db.select().from(appointments).orderBy(appointments.id);
}

async function setHours(api: TestApp, doctor: Actor, workingHours: unknown, timeZone: string) {
  await api.db.update(doctorProfiles).set({ workingHours, timeZone }).where(eq(doctorProfiles.userId, doctor.id));
}

appTest(
  "POST /appointments/ lets exactly one of 50 concurrent overlapping bookings for one doctor succeed",
  async (_t, api) => {
    api.clock.current = new Date(NOW);
    const doctor = await api.makeDoctor();
    const patients = await Promise.all(Array.from({ length: 50 }, () => api.makePatient()));
    const tokens = await Promise.all(patients.map((p) => token(api, p)));
    const base = new Date("2031-02-03T10:00:00Z").getTime();
    const results = await Promise.all(patients.map((p, i) =>
      book(api, tokens[i], {
        patient: p.id,
        doctor: doctor.id,
        appointment_date: new Date(base + i * 60_000).toISOString(), // every pair overlaps: 49 min < 60
        duration_minutes: 60,
      })
    ));
    const statuses = results.map((r) => r.status);
    assertEquals(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
    const others = results.filter((r) => r.status !== 201 && r.status !== 409);
    assertEquals(others.length, 0, JSON.stringify(others.map((r) => [r.status, r.body])));
    const stored = await rows(api);
    assertEquals(stored.length, 1);
    const winner = results.find((r) => r.status === 201)!;
    assertEquals(stored[0].id, winner.body.id);
    for (const loser of results.filter((r) => r.status === 409)) {
      assertEquals(loser.headers.get("content-type"), "application/problem+json");
      // Another patient's booking: its time is given, its id is not.
      assertEquals(loser.body.conflicting_appointment, undefined);
      assertEquals(loser.body.conflicting_time, {
        start: winner.body.appointment_date,
        end: new Date(Date.parse(winner.body.appointment_date as string) + 3600_000).toISOString(),
      });
    }
    const denied = await api.db.select({ n: count() }).from(auditLogs).where(
      and(eq(auditLogs.targetTable, "appointments"), eq(auditLogs.outcome, "denied")),
    );
    assertEquals(denied[0].n, 49, "one denied record per refused booking");
  },
  // The 49 losers wait inside their INSERT for the winner's commit, and 40 of the 50 wait for one
  // of the pool's 10 connections first; on a loaded CI machine either wait can pass its default
  // bound (5 s per statement, 2 s for a connection: a 503, not a 409). What is tested here is that
  // exactly one wins, so both bounds are set out of the way; errors are logged should any remain.
  {
    env: {
      RATE_LIMIT_LOGIN_PER_IP: "1000",
      DB_QUERY_TIMEOUT_MS: "30000",
      DB_CONNECT_TIMEOUT_MS: "20000",
      LOG_LEVEL: "error",
    },
  },
);

appTest("POST /appointments/ accepts the benchmark body from the patient and fills the defaults", async (_t, api) => {
  const { patient, doctor } = await setUp(api);
  const res = await book(api, await token(api, patient), {
    patient: patient.id,
    doctor: doctor.id,
    appointment_date: "2031-03-01T00:00:00Z",
    duration_minutes: 30,
    reason: "bench 0/1",
  });
  assertEquals(res.status, 201, res.text);
  assertEquals(Object.keys(res.body).sort(), [
    "appointment_date",
    "cancellation_reason",
    "created_at",
    "doctor",
    "duration_minutes",
    "id",
    "notes",
    "patient",
    "reason",
    "status",
    "updated_at",
  ]);
  assertEquals(res.body.status, "scheduled");
  assertEquals(res.body.appointment_date, "2031-03-01T00:00:00.000Z");
  const short = await book(api, await token(api, patient), { doctor: doctor.id, appointment_date: hoursFromNow(30) });
  assertEquals([short.status, short.body.duration_minutes, short.body.patient], [201, 30, patient.id]);
  const [row] = await api.db.select().from(appointments).where(eq(appointments.id, short.body.id as number));
  assertEquals(row.endsAt.toISOString(), hoursFromNow(30.5));
});

appTest("POST /appointments/ refuses a time in the past, bad bodies and unknown fields with 422", async (_t, api) => {
  const { patient, doctor } = await setUp(api);
  const tok = await token(api, patient);
  const past = await book(api, tok, { doctor: doctor.id, appointment_date: hoursFromNow(-1) });
  assertEquals([past.status, past.body.errors], [422, [{
    pointer: "/appointment_date",
    detail: "Must be in the future",
  }]]);
  const bad = [
    { doctor: doctor.id, appointment_date: hoursFromNow(5), status: "completed" },
    { doctor: doctor.id, appointment_date: hoursFromNow(5), duration_minutes: 4 },
    { doctor: doctor.id, appointment_date: hoursFromNow(5), duration_minutes: 481 },
    { doctor: doctor.id, appointment_date: "2031-02-01T10:00:00" },
    { doctor: doctor.id, appointment_date: hoursFromNow(5), reason: "x".repeat(5001) },
    { doctor: doctor.id, scheduled_time: hoursFromNow(5) },
  ];
  for (const body of bad) assertEquals((await book(api, tok, body)).status, 422, JSON.stringify(body));
  assertEquals((await rows(api)).length, 0);
});

appTest("POST /appointments/ must fall inside one working-hours interval in the doctor's zone", async (_t, api) => {
  const { patient, doctor } = await setUp(api);
  await setHours(api, doctor, {
    mon: [{ start: "09:00", end: "12:00" }, { start: "13:00", end: "17:00" }],
  }, "Europe/Berlin");
  const tok = await token(api, patient);
  const at = async (iso: string, minutes = 30) =>
    (await book(api, tok, { doctor: doctor.id, appointment_date: iso, duration_minutes: minutes })).status;
  // Berlin is UTC+1 in January: 09:00 local is 08:00Z.
  assertEquals(await at("2031-01-06T07:30:00Z"), 422, "08:30 local, before opening");
  assertEquals(await at("2031-01-06T10:45:00Z", 60), 422, "11:45–12:45 local spans the lunch break");
  assertEquals(await at("2031-01-06T15:45:00Z"), 422, "16:45–17:15 local runs past closing");
  assertEquals(await at("2031-01-07T08:00:00Z"), 422, "Tuesday: no hours");
  assertEquals(await at("2031-01-06T08:00:00Z"), 201, "09:00 local, first slot");
  assertEquals(await at("2031-01-06T15:30:00Z"), 201, "16:30–17:00 local, last slot");
  assertEquals((await rows(api)).length, 2);
});

appTest("POST /appointments/ lets a patient book only for themselves, with a doctor", async (_t, api) => {
  const { patient, other, doctor } = await setUp(api);
  const tok = await token(api, patient);
  const forOther = await book(api, tok, { patient: other.id, doctor: doctor.id, appointment_date: hoursFromNow(5) });
  assertEquals([forOther.status, forOther.body.errors], [422, [{
    pointer: "/patient",
    detail: "Must be your own user id",
  }]]);
  const notDoctor = await book(api, tok, { doctor: other.id, appointment_date: hoursFromNow(5) });
  assertEquals([notDoctor.status, notDoctor.body.errors], [422, [{
    pointer: "/doctor",
    detail: "Not a doctor who takes appointments",
  }]]);
  const noDoctor = await book(api, tok, { appointment_date: hoursFromNow(5) });
  assertEquals([noDoctor.status, noDoctor.body.errors], [422, [{ pointer: "/doctor", detail: "Required" }]]);
  const notes = await book(api, tok, { doctor: doctor.id, appointment_date: hoursFromNow(5), notes: "x" });
  assertEquals(notes.status, 422);
  assertEquals((await rows(api)).length, 0);
});

appTest("POST /appointments/ lets a doctor book only as themselves for a patient under their care", async (_t, api) => {
  const { patient, other, doctor, admin } = await setUp(api);
  const second = await api.makeDoctor();
  const docTok = await token(api, doctor);
  const unknown = await book(api, docTok, { patient: 999999, appointment_date: hoursFromNow(5) });
  const notUnderCare = await book(api, docTok, { patient: other.id, appointment_date: hoursFromNow(5) });
  // Same answer whether the patient exists or not: nothing about other patients leaks.
  assertEquals([unknown.status, notUnderCare.status], [422, 422]);
  assertEquals(strip(unknown.body), strip(notUnderCare.body));
  assertEquals(notUnderCare.body.errors, [{ pointer: "/patient", detail: "Not a patient under your care" }]);
  const withColleague = await book(api, docTok, {
    patient: other.id,
    doctor: second.id,
    appointment_date: hoursFromNow(5),
  });
  assertEquals(withColleague.status, 422);
  assertEquals((await rows(api)).length, 0);

  const first = await book(api, await token(api, patient), { doctor: doctor.id, appointment_date: hoursFromNow(5) });
  assertEquals(first.status, 201);
  const followUp = await book(api, docTok, {
    patient: patient.id,
    appointment_date: hoursFromNow(50),
    notes: "Bloods",
  });
  assertEquals([followUp.status, followUp.body.doctor, followUp.body.notes], [201, doctor.id, "Bloods"]);
  const byAdmin = await book(api, await token(api, admin), {
    patient: other.id,
    doctor: second.id,
    appointment_date: hoursFromNow(5),
  });
  assertEquals([byAdmin.status, byAdmin.body.patient, byAdmin.body.doctor], [201, other.id, second.id]);
  assertEquals((await rows(api)).length, 3);
});

appTest("GET /appointments/{id}/ answers another patient's appointment exactly like a missing one", async (_t, api) => {
  const { patient, other, doctor } = await setUp(api);
  const booked = await book(api, await token(api, other), { doctor: doctor.id, appointment_date: hoursFromNow(5) });
  const tok = await token(api, patient);
  const theirs = await api.request("GET", `/appointments/${booked.body.id}/`, { token: tok });
  const missing = await api.request("GET", "/appointments/999999/", { token: tok });
  assertEquals([theirs.status, missing.status], [404, 404]);
  assertEquals(strip(theirs.body), strip(missing.body));
  const patch = await api.request("PATCH", `/appointments/${booked.body.id}/`, {
    token: tok,
    body: { status: "cancelled" },
  });
  assertEquals(strip(patch.body), strip(missing.body));
  assertEquals((await rows(api))[0].status, "scheduled");
  const mine = await api.request("GET", `/appointments/${booked.body.id}`, { token: await token(api, other) });
  assertEquals([mine.status, mine.body.id], [200, booked.body.id]);
  const doc = await api.request("GET", `/appointments/${booked.body.id}/`, { token: await token(api, doctor) });
  assertEquals(doc.status, 200);
});

appTest("PATCH /appointments/{id}/ follows the state machine for each party", async (t, api) => {
  const { patient, other, doctor, admin } = await setUp(api);
  const tokens = {
    patient: await token(api, patient),
    doctor: await token(api, doctor),
    admin: await token(api, admin),
  };
  const newBooking = async (hours: number) =>
    (await book(api, tokens.patient, { doctor: doctor.id, appointment_date: hoursFromNow(hours) })).body.id as number;
  const patch = (who: keyof typeof tokens | string, id: number, body: Record<string, unknown>) =>
    api.request("PATCH", `/appointments/${id}/`, { token: (tokens as Record<string, string>)[who] ?? who, body });
  const stored = async (id: number) => (await api.db.select().from(appointments).where(eq(appointments.id, id)))[0];

  await t.step("the patient reschedules: new time, status rescheduled, ends_at follows", async () => {
    const id = await newBooking(10);
    const res = await patch("patient", id, { appointment_date: hoursFromNow(20), duration_minutes: 45 });
    assertEquals([res.status, res.body.status, res.body.appointment_date], [200, "rescheduled", hoursFromNow(20)]);
    assertEquals((await stored(id)).endsAt.toISOString(), hoursFromNow(20.75));
    const past = await patch("patient", id, { appointment_date: hoursFromNow(-2) });
    assertEquals([past.status, (await stored(id)).appointmentDate.toISOString()], [422, hoursFromNow(20)]);
  });

  await t.step("the patient cancels with a reason; nobody revives a cancelled appointment", async () => {
    const id = await newBooking(30);
    const res = await patch("patient", id, { status: "cancelled", cancellation_reason: "Travelling" });
    assertEquals([res.status, res.body.status, res.body.cancellation_reason], [200, "cancelled", "Travelling"]);
    for (
      const [who, body] of [
        ["patient", { status: "scheduled" }],
        ["patient", { appointment_date: hoursFromNow(40) }],
        ["admin", { status: "rescheduled" }],
        ["admin", { appointment_date: hoursFromNow(40) }],
        ["admin", { status: "completed" }],
      ] as const
    ) {
      assertEquals((await patch(who, id, body)).status, 422, `${who} ${JSON.stringify(body)}`);
    }
    assertEquals((await stored(id)).status, "cancelled");
  });

  await t.step("server-owned status values and stray cancellation reasons are refused", async () => {
    const id = await newBooking(60);
    assertEquals((await patch("patient", id, { status: "rescheduled" })).status, 422);
    assertEquals((await patch("admin", id, { status: "scheduled", cancellation_reason: "x" })).status, 422);
    assertEquals((await patch("patient", id, { cancellation_reason: "x" })).status, 422);
    assertEquals((await patch("patient", id, { patient: other.id })).status, 422);
    assertEquals((await patch("patient", id, { id: 5 })).status, 422);
    // Echoing the current values is no change (what a PUT of the row does).
    const echo = await patch("patient", id, { status: "scheduled", patient: patient.id, doctor: doctor.id });
    assertEquals([echo.status, echo.body.status], [200, "scheduled"]);
  });

  await t.step("notes belong to the doctor, the reason to the patient", async () => {
    const id = await newBooking(70);
    assertEquals((await patch("patient", id, { notes: "I am fine" })).status, 403);
    assertEquals((await patch("doctor", id, { reason: "Other" })).status, 403);
    assertEquals((await patch("doctor", id, { notes: "Check BP" })).body.notes, "Check BP");
    assertEquals((await patch("patient", id, { reason: "Headache" })).body.reason, "Headache");
    const row = await stored(id);
    assertEquals([row.notes, row.reason, row.status], ["Check BP", "Headache", "scheduled"]);
  });

  await t.step("the doctor may not reschedule, nor complete or mark no-show before the start", async () => {
    const id = await newBooking(80);
    assertEquals((await patch("doctor", id, { appointment_date: hoursFromNow(90) })).status, 403);
    assertEquals((await patch("patient", id, { status: "completed" })).status, 403);
    assertEquals((await patch("doctor", id, { status: "completed" })).status, 422);
    assertEquals((await patch("doctor", id, { status: "no_show" })).status, 422);
    assertEquals((await stored(id)).status, "scheduled");
  });

  await t.step("a doctor of another appointment of the patient neither sees nor changes it", async () => {
    const id = await newBooking(85);
    const colleague = await api.makeDoctor();
    const colleagueToken = await token(api, colleague);
    const hidden = await patch(colleagueToken, id, { status: "cancelled" });
    assertEquals(hidden.status, 404, "not under the colleague's care");
    const res = await book(api, tokens.patient, { doctor: colleague.id, appointment_date: hoursFromNow(200) });
    assertEquals(res.status, 201);
    assertEquals((await patch(colleagueToken, id, { status: "cancelled" })).status, 404);
    assertEquals((await stored(id)).status, "scheduled");
  });

  await t.step("once started: the doctor completes or marks no-show, the patient can no longer cancel", async () => {
    const done = await newBooking(100);
    const missed = await newBooking(101);
    const late = await newBooking(102);
    api.clock.current = new Date(Date.parse(hoursFromNow(103)));
    const fresh = { patient: await token(api, patient), doctor: await token(api, doctor) };
    assertEquals((await patch(fresh.patient, late, { status: "cancelled" })).status, 422);
    assertEquals((await patch(fresh.patient, late, { appointment_date: hoursFromNow(300) })).status, 422);
    const completed = await patch(fresh.doctor, done, { status: "completed", notes: "All good" });
    assertEquals([completed.status, completed.body.status, completed.body.notes], [200, "completed", "All good"]);
    assertEquals((await patch(fresh.doctor, missed, { status: "no_show" })).body.status, "no_show");
    assertEquals((await patch(fresh.doctor, late, { status: "cancelled" })).body.status, "cancelled");
    for (const id of [done, missed]) {
      assertEquals((await patch(fresh.doctor, id, { status: "cancelled" })).status, 422, "final");
      assertEquals((await patch(fresh.patient, id, { reason: "late edit" })).status, 422, "final");
    }
    assertEquals((await patch(fresh.doctor, done, { notes: "Addendum" })).body.notes, "Addendum");
    assertEquals((await stored(done)).status, "completed");
    api.clock.current = new Date(NOW);
  });

  await t.step("PUT replaces the schedule fields through the same rules", async () => {
    const id = await newBooking(110);
    const res = await api.request("PUT", `/appointments/${id}/`, {
      token: tokens.admin,
      body: { appointment_date: hoursFromNow(111), duration_minutes: 60, reason: "Moved by the desk" },
    });
    assertEquals([res.status, res.body.status, res.body.reason], [200, "rescheduled", "Moved by the desk"]);
    const missing = await api.request("PUT", `/appointments/${id}/`, { token: tokens.patient, body: { reason: "x" } });
    assertEquals(missing.status, 422, "appointment_date is required on PUT");
    const stray = await api.request("PUT", `/appointments/${id}/`, {
      token: tokens.admin,
      body: { appointment_date: hoursFromNow(111), created_at: hoursFromNow(0) },
    });
    assertEquals(stray.status, 422, "server-owned fields are refused on PUT too");
    const echo = await api.request("PUT", `/appointments/${id}/`, {
      token: tokens.patient,
      body: { ...res.body, id: undefined, created_at: undefined, updated_at: undefined },
    });
    assertEquals([echo.status, echo.body.status], [200, "rescheduled"], "a PUT of the row as read is no change");
  });
});

appTest(
  "Cancelling frees the time; a move into a taken time is 409 naming what the caller may see",
  async (_t, api) => {
    const { patient, other, doctor, admin } = await setUp(api);
    const [mine, theirs] = [await token(api, patient), await token(api, other)];
    const slot = { doctor: doctor.id, appointment_date: hoursFromNow(24), duration_minutes: 30 };
    const first = await book(api, mine, slot);
    assertEquals(first.status, 201);
    const clash = await book(api, theirs, { ...slot, appointment_date: hoursFromNow(24.25) });
    assertEquals([clash.status, clash.body.conflicting_appointment], [409, undefined]);
    assertEquals(clash.body.conflicting_time, { start: hoursFromNow(24), end: hoursFromNow(24.5) });
    const cancelled = await api.request("PATCH", `/appointments/${first.body.id}/`, {
      token: mine,
      body: { status: "cancelled" },
    });
    assertEquals(cancelled.status, 200);
    const second = await book(api, theirs, slot);
    assertEquals(second.status, 201);

    const later = await book(api, mine, { ...slot, appointment_date: hoursFromNow(48) });
    const move = { appointment_date: hoursFromNow(23.75) };
    const asPatient = await api.request("PATCH", `/appointments/${later.body.id}/`, { token: mine, body: move });
    assertEquals([asPatient.status, asPatient.body.conflicting_appointment], [409, undefined]);
    const asAdmin = await api.request("PATCH", `/appointments/${later.body.id}/`, {
      token: await token(api, admin),
      body: move,
    });
    assertEquals([asAdmin.status, asAdmin.body.conflicting_appointment], [409, second.body.id]);
    const [row] = await api.db.select().from(appointments).where(eq(appointments.id, later.body.id as number));
    assertEquals([row.appointmentDate.toISOString(), row.status], [hoursFromNow(48), "scheduled"]);
    // Moving within its own time never conflicts with itself.
    const self = await api.request("PATCH", `/appointments/${later.body.id}/`, {
      token: mine,
      body: { appointment_date: hoursFromNow(48.25) },
    });
    assertEquals(self.status, 200);
  },
);

appTest("GET /appointments/ filters by patient, doctor, status and time, in scope only", async (_t, api) => {
  const { patient, other, doctor, admin } = await setUp(api);
  const second = await api.makeDoctor();
  const [p, o, a] = [await token(api, patient), await token(api, other), await token(api, admin)];
  const ids = [
    (await book(api, p, { doctor: doctor.id, appointment_date: hoursFromNow(10) })).body.id,
    (await book(api, p, { doctor: second.id, appointment_date: hoursFromNow(20) })).body.id,
    (await book(api, o, { doctor: doctor.id, appointment_date: hoursFromNow(30) })).body.id,
    (await book(api, o, { doctor: second.id, appointment_date: hoursFromNow(40) })).body.id,
  ];
  const stranger = await api.makePatient();
  const strangers =
    (await book(api, await token(api, stranger), { doctor: second.id, appointment_date: hoursFromNow(50) }))
      .body.id;
  await api.request("PATCH", `/appointments/${ids[3]}/`, { token: o, body: { status: "cancelled" } });
  const list = async (tok: string, query = "") => {
    const res = await api.request("GET", `/appointments/${query}`, { token: tok });
    assertEquals(res.status, 200, res.text);
    return (res.body.results as { id: number }[]).map((r) => r.id);
  };
  assertEquals(await list(a), [...ids, strangers]);
  assertEquals(await list(a, "?ordering=-appointment_date"), [...ids, strangers].reverse());
  assertEquals(await list(a, "?ordering=created_at"), [...ids, strangers]);
  assertEquals(await list(a, `?patient=${other.id}`), [ids[2], ids[3]]);
  assertEquals(await list(a, `?doctor=${second.id}&status=cancelled`), [ids[3]]);
  assertEquals(await list(a, `?from=${encodeURIComponent(hoursFromNow(20))}&to=${hoursFromNow(40)}`), [ids[1], ids[2]]);
  assertEquals(await list(p), [ids[0], ids[1]]);
  assertEquals(await list(p, `?patient=${other.id}`), []);
  // The doctor: their own appointments only, not colleagues' visits of the same patients.
  assertEquals(await list(await token(api, doctor)), [ids[0], ids[2]]);
  const secondTok = await token(api, second);
  await api.request("PATCH", `/appointments/${ids[1]}/`, { token: p, body: { status: "cancelled" } });
  assertEquals(await list(secondTok), [ids[1], ids[3], strangers], "own appointments, cancelled ones included");
  for (const bad of ["?status=done", "?from=yesterday", "?ordering=reason", "?patient=x"]) {
    assertEquals((await api.request("GET", `/appointments/${bad}`, { token: a })).status, 400, bad);
  }
});

appTest("GET /appointments/?page_size=200 returns 200 appointments in one page with one query", async (_t, api) => {
  const { patient, doctor, admin } = await setUp(api);
  const start = new Date("2031-06-01T00:00:00Z").getTime();
  const insert = (from: number, n: number) =>
    api.db.insert(appointments).values(Array.from({ length: n }, (_, k) => ({
      patientId: patient.id,
      doctorId: doctor.id,
      appointmentDate: new Date(start + (from + k) * 3600_000),
      durationMinutes: 30,
      endsAt: new Date(start + (from + k) * 3600_000 + 30 * 60_000),
    })));
  const tok = await token(api, admin);
  const list = async (path: string, who = tok) => {
    api.database.queries.length = 0;
    const res = await api.request("GET", path, { token: who });
    assertEquals(res.status, 200);
    return { res, statements: api.database.queries.length };
  };
  await insert(0, 2);
  const few = await list("/appointments/?page_size=200");
  await insert(2, 203);
  const many = await list("/appointments/?page_size=200");
  assertEquals(many.statements, few.statements, "no query per row");
  const results = many.res.body.results as { appointment_date: string }[];
  assertEquals(results.length, 200);
  assertEquals(results[199].appointment_date, at("2031-06-09T07:00:00Z"));
  const next = await list((many.res.body.next as string).replace(/^https?:\/\/[^/]+/, ""));
  assertEquals((next.res.body.results as unknown[]).length, 5);
  assertEquals(next.res.body.next, null);
  const mine = await list("/appointments/?page_size=200", await token(api, patient));
  assertEquals([(mine.res.body.results as unknown[]).length, mine.statements], [200, many.statements]);
});

appTest("DELETE /appointments/{id}/ is for administrators only", async (_t, api) => {
  const { patient, doctor, admin } = await setUp(api);
  const tok = await token(api, patient);
  const booked = await book(api, tok, { doctor: doctor.id, appointment_date: hoursFromNow(5) });
  for (const who of [tok, await token(api, doctor)]) {
    assertEquals((await api.request("DELETE", `/appointments/${booked.body.id}/`, { token: who })).status, 403);
  }
  assertEquals((await rows(api)).length, 1);
  const adminTok = await token(api, admin);
  assertEquals((await api.request("DELETE", `/appointments/${booked.body.id}/`, { token: adminTok })).status, 204);
  assertEquals((await rows(api)).length, 0);
  assertEquals((await api.request("DELETE", `/appointments/${booked.body.id}/`, { token: adminTok })).status, 404);
});

appTest("GET /doctors/{id}/slots/ gives free slots in UTC across a DST change, never who is booked", async (t, api) => {
  const { patient, other, doctor } = await setUp(api);
  // Europe/Berlin moves from UTC+1 to UTC+2 at 01:00Z on Sunday 2031-03-30 (02:00 local → 03:00).
  await setHours(api, doctor, {
    sat: [{ start: "09:00", end: "12:00" }],
    sun: [{ start: "01:00", end: "05:00" }, { start: "09:00", end: "12:00" }],
  }, "Europe/Berlin");
  const tok = await token(api, patient);
  const slots = async (query: string, id = doctor.id) => {
    const res = await api.request("GET", `/doctors/${id}/slots/${query}`, { token: tok });
    return res;
  };
  const starts = (res: { body: Record<string, unknown> }) =>
    (res.body.slots as { start: string; end: string }[]).map((s) => s.start);

  await t.step("the day before the change is UTC+1", async () => {
    const res = await slots("?date=2031-03-29&duration=60");
    assertEquals(res.status, 200);
    assertEquals(starts(res), ["2031-03-29T08:00:00.000Z", "2031-03-29T09:00:00.000Z", "2031-03-29T10:00:00.000Z"]);
    assertEquals(res.body.time_zone, "Europe/Berlin");
  });

  await t.step("the day of the change: 01:00–05:00 local is three real hours, 09:00 is 07:00Z", async () => {
    const booked = await book(api, await token(api, other), {
      doctor: doctor.id,
      appointment_date: "2031-03-30T08:00:00Z",
      duration_minutes: 30,
    });
    assertEquals(booked.status, 201, booked.text);
    const res = await slots("?date=2031-03-30&duration=60");
    assertEquals(starts(res), [
      "2031-03-30T00:00:00.000Z",
      "2031-03-30T01:00:00.000Z",
      "2031-03-30T02:00:00.000Z",
      "2031-03-30T07:00:00.000Z",
      "2031-03-30T09:00:00.000Z",
    ]);
    // Only times: nothing names who holds the booked half hour.
    assertEquals(Object.keys(res.body).sort(), ["date", "doctor", "duration_minutes", "slots", "time_zone"]);
    assertEquals(
      (res.body.slots as Record<string, unknown>[]).every((s) => Object.keys(s).join() === "start,end"),
      true,
    );
    const half = await slots("?date=2031-03-30");
    assertEquals((half.body.slots as unknown[]).length, 6 + 5, "30-minute slots minus the booked half hour");
  });

  await t.step("a booking in the shifted hours is checked the same way", async () => {
    const p = await token(api, patient);
    const early = await book(api, p, { doctor: doctor.id, appointment_date: "2031-03-30T03:00:00Z" });
    assertEquals(early.status, 422, "05:00 CEST is closing time");
    const ok = await book(api, p, { doctor: doctor.id, appointment_date: "2031-03-30T02:30:00Z" });
    assertEquals(ok.status, 201, "04:30 CEST");
  });

  await t.step("only future slots", async () => {
    api.clock.current = new Date("2031-03-30T01:30:00Z");
    const res = await api.request("GET", `/doctors/${doctor.id}/slots/?date=2031-03-30&duration=60`, {
      token: await token(api, patient),
    });
    assertEquals(starts(res), ["2031-03-30T07:00:00.000Z", "2031-03-30T09:00:00.000Z"], "02:00Z is taken at 02:30Z");
    api.clock.current = new Date(NOW);
  });

  await t.step("a doctor without working hours is free all day in their zone; bad input is refused", async () => {
    const free = await api.makeDoctor();
    const res = await slots("?date=2031-03-30&duration=480", free.id);
    assertEquals(starts(res), ["2031-03-30T00:00:00.000Z", "2031-03-30T08:00:00.000Z", "2031-03-30T16:00:00.000Z"]);
    assertEquals((await slots("?date=2031-03-30", patient.id)).status, 404);
    assertEquals((await slots("?date=2031-03-30", 999999)).status, 404);
    for (const bad of ["?date=2031-02-30", "?date=tomorrow", ""]) assertEquals((await slots(bad)).status, 422, bad);
    assertEquals((await slots("?date=2031-03-30&duration=1")).status, 400);
    assertEquals((await api.request("GET", `/doctors/${doctor.id}/slots/?date=2031-03-30`)).status, 401);
  });
});
