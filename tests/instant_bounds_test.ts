/**
 * Issue 9, point 15: instants and dates past what Postgres and a JS Date both hold (years 1 to
 * 9999 in UTC) are refused as the client's mistake (400 for a query, 422 for a body), in every
 * place the issue named; the last representable instant still works and reads back. Runs on
 * PGlite and on Postgres.
 */
import { assertEquals } from "@std/assert";
import { eq, sql } from "drizzle-orm";
import { domainErrorOf, sqlState } from "../db/errors.ts";
import { doctorProfiles } from "../db/schema.ts";
import { careCircle } from "./_care.ts";
import { appTest, type TestApp } from "./_fixtures.ts";

const PAST_9999 = [
  "10000-01-01T00:00:00Z",
  "+010000-01-01T00:00:00.000Z",
  "+275760-09-13T00:00:00.000Z",
  "9999-12-31T23:59:59-01:00", // 10000-01-01 in UTC
];
const LAST = "9999-12-31T23:59:59.999Z";

const statusOf = async (api: TestApp, path: string, token: string) => (await api.request("GET", path, { token }));

appTest("?from= and ?to= past 9999 are 400 on lists and audit filters; the last instant is 200", async (t, api) => {
  const admin = await api.makeAdmin();
  const token = (await api.signIn(admin)).access;
  for (const path of ["/appointments/", "/auditlogs/"]) {
    for (const param of ["from", "to"]) {
      await t.step(`${path}?${param}=`, async () => {
        for (const value of PAST_9999) {
          const res = await statusOf(api, `${path}?${param}=${encodeURIComponent(value)}`, token);
          assertEquals([res.status, res.body.type], [400, "urn:problem-type:patient-portal:invalid-parameters"], value);
        }
        const last = await statusOf(api, `${path}?${param}=${encodeURIComponent(LAST)}`, token);
        assertEquals(last.status, 200, last.text);
      });
    }
  }
});

appTest("GET /doctors/{id}/slots/?date= past 9999 is 422; on 9999-12-31 no slot ends after 9999", async (_t, api) => {
  const [doctor, patient] = [await api.makeDoctor(), await api.makePatient()];
  // West of UTC: the doctor's 9999-12-31 runs into 10000-01-01 in UTC.
  await api.db.update(doctorProfiles).set({ timeZone: "America/Los_Angeles", workingHours: null })
    .where(eq(doctorProfiles.userId, doctor.id));
  const token = (await api.signIn(patient)).access;
  for (const date of ["10000-01-01", "+010000-01-01", "99999-12-31"]) {
    const res = await statusOf(api, `/doctors/${doctor.id}/slots/?date=${encodeURIComponent(date)}`, token);
    assertEquals(res.status, 422, `${date}: ${res.text}`);
  }
  const last = await statusOf(api, `/doctors/${doctor.id}/slots/?date=9999-12-31&duration=60`, token);
  assertEquals(last.status, 200, last.text);
  const ends = (last.body.slots as { end: string }[]).map((s) => s.end);
  assertEquals(ends.length > 0, true);
  assertEquals(ends.every((end) => /^9999-12-31T/.test(end)), true, ends.join());
});

appTest("an appointment whose end passes 9999-12-31 is 422, on booking and on rescheduling", async (_t, api) => {
  const [doctor, patient] = [await api.makeDoctor(), await api.makePatient()];
  const token = (await api.signIn(patient)).access;
  const book = (body: Record<string, unknown>) =>
    api.request("POST", "/appointments/", { token, body: { doctor: doctor.id, ...body } });
  const late = await book({ appointment_date: "9999-12-31T23:45:00Z", duration_minutes: 30 });
  assertEquals(late.status, 422, late.text);
  for (const value of PAST_9999) assertEquals((await book({ appointment_date: value })).status, 422, value);
  const fits = await book({ appointment_date: "9999-12-31T23:00:00Z", duration_minutes: 30 });
  assertEquals(fits.status, 201, fits.text);
  const id = fits.body.id;
  const longer = await api.request("PATCH", `/appointments/${id}/`, { token, body: { duration_minutes: 120 } });
  assertEquals(longer.status, 422, longer.text);
  const later = await api.request("PATCH", `/appointments/${id}/`, {
    token,
    body: { appointment_date: "9999-12-31T23:59:00Z" },
  });
  assertEquals(later.status, 422, later.text);
  const read = await api.request("GET", `/appointments/${id}/`, { token });
  assertEquals([read.status, read.body.appointment_date], [200, "9999-12-31T23:00:00.000Z"]);
  const listed = await api.request("GET", "/appointments/?ordering=-appointment_date", { token });
  assertEquals(listed.status, 200, listed.text);
});

appTest(
  "a lab result_date past 9999 is 422 on create, update and correction; the last instant reads back",
  async (t, api) => {
    const { patient, tokens } = await careCircle(api);
    const base = { patient: patient.id, test_type: "Glucose", result_value: "5.4", status: "final" };
    await t.step("create", async () => {
      for (const value of PAST_9999) {
        const res = await api.request("POST", "/labresults/", {
          token: tokens.doctor,
          body: { ...base, result_date: value },
        });
        assertEquals(res.status, 422, `${value}: ${res.text}`);
      }
    });
    const created = await api.request("POST", "/labresults/", {
      token: tokens.doctor,
      body: { ...base, result_date: LAST },
    });
    assertEquals([created.status, created.body.result_date], [201, LAST], created.text);
    const id = created.body.id;
    await t.step("update and correction", async () => {
      for (const value of PAST_9999) {
        const patch = await api.request("PATCH", `/labresults/${id}/`, {
          token: tokens.doctor,
          body: { result_date: value },
        });
        assertEquals(patch.status, 422, `${value}: ${patch.text}`);
        const correction = await api.request("POST", `/labresults/${id}/corrections/`, {
          token: tokens.doctor,
          body: { result_date: value },
        });
        assertEquals(correction.status, 422, `${value}: ${correction.text}`);
      }
    });
    await t.step("reads back, alone and in a list", async () => {
      const read = await api.request("GET", `/labresults/${id}/`, { token: tokens.patient });
      assertEquals([read.status, read.body.result_date], [200, LAST]);
      const listed = await api.request("GET", "/labresults/?ordering=-result_date", { token: tokens.patient });
      assertEquals(listed.status, 200, listed.text);
    });
  },
);

appTest("a date of birth past 9999 is 422, and a text that is not a date is never a 500", async (_t, api) => {
  const patient = await api.makePatient();
  const token = (await api.signIn(patient)).access;
  for (const value of ["10000-01-01", "+010000-01-01", "0000-12-31", "9999-13-01"]) {
    const res = await api.request("PATCH", `/patients/${patient.id}/`, { token, body: { date_of_birth: value } });
    assertEquals(res.status, 422, `${value}: ${res.text}`);
  }
  const last = await api.request("PATCH", `/patients/${patient.id}/`, { token, body: { date_of_birth: "9999-12-31" } });
  assertEquals([last.status, last.body.date_of_birth], [200, "9999-12-31"], last.text);
});

appTest("a data exception (SQLSTATE class 22) from the driver is the input's fault: 422, not 500", async (_t, api) => {
  const statements = [
    sql`select ${"294277-01-01"}::timestamptz`, // 22008 datetime field overflow
    sql`select ${"99999999999"}::int`, // 22003 numeric value out of range
    sql`select 1 / ${0}::int`, // 22012 division by zero
    sql`select ${"not a date"}::date`, // 22007 invalid datetime format
  ];
  for (const statement of statements) {
    const error = await api.db.execute(statement).then(() => undefined, (e) => e);
    const code = sqlState(error);
    assertEquals(code?.startsWith("22"), true, String(code));
    assertEquals(domainErrorOf(error)?.kind, "invalid", String(code));
  }
});
