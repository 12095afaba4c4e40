import { assert, assertEquals } from "@std/assert";
import { count, eq } from "drizzle-orm";
import { claimDueReminders } from "../db/reminders.ts";
import { appointments, integrationLogs, notifications, outbox } from "../db/schema.ts";
import { mailOnce, relayOnce } from "../services/notification_relay.ts";
import { mailableAt } from "../services/quiet_hours.ts";
import { appTest, type TestApp } from "./_fixtures.ts";
import { putUnderCare } from "./_care.ts";

const at = (iso: string) => new Date(iso);

Deno.test("quiet hours hold mail until they end, in the user's zone, across midnight", () => {
  const quiet = { start: "22:00", end: "07:00", timeZone: "Europe/Paris" };
  const cases: [string, string][] = [
    ["2031-01-06T12:00:00Z", "2031-01-06T12:00:00.000Z"], // 13:00 in Paris: not quiet
    ["2031-01-06T21:30:00Z", "2031-01-07T06:00:00.000Z"], // 22:30: until 07:00 next morning
    ["2031-01-07T03:00:00Z", "2031-01-07T06:00:00.000Z"], // 04:00: until 07:00 the same morning
    ["2031-07-07T03:00:00Z", "2031-07-07T05:00:00.000Z"], // summer time: 07:00 is 05:00 UTC
  ];
  for (const [now, expected] of cases) assertEquals(mailableAt(at(now), quiet).toISOString(), expected, now);
  assertEquals(
    mailableAt(at("2031-01-06T10:00:00Z"), { start: "09:00", end: "17:00", timeZone: "UTC" }).toISOString(),
    "2031-01-06T17:00:00.000Z",
  );
  assertEquals(mailableAt(at("2031-01-06T10:00:00Z"), null).toISOString(), "2031-01-06T10:00:00.000Z");
});

async function labResultFor(api: TestApp) {
  const [patient, doctor] = [await api.makePatient(), await api.makeDoctor()];
  await putUnderCare(api, doctor, patient);
  const token = (await api.signIn(patient)).access;
  const doctorToken = (await api.signIn(doctor)).access;
  return { patient, token, doctorToken };
}

appTest(
  "a category chosen for e-mail also goes by mail, without health details, with an integration-log row",
  async (_t, api) => {
    const { patient, token, doctorToken } = await labResultFor(api);
    const prefs = { channels: { lab_result: { email: true } }, quiet_hours: null, time_zone: "UTC" };
    assertEquals((await api.request("PUT", "/me/notification-preferences/", { token, body: prefs })).status, 200);
    const stored = await api.request("GET", "/me/notification-preferences/", { token });
    assertEquals(
      [stored.body.time_zone, (stored.body.channels as Record<string, { email: boolean }>).lab_result.email],
      ["UTC", true],
    );
    const lab = { patient: patient.id, test_type: "HIV viral load", result_value: "undetectable", status: "final" };
    assertEquals((await api.request("POST", "/labresults/", { token: doctorToken, body: lab })).status, 201);
    await relayOnce(api.deps);
    assertEquals(await mailOnce(api.deps), 1);
    const mails = await api.mails();
    assertEquals(mails.length, 1);
    assert(mails[0].includes("a new lab result") && !/HIV|viral|undetectable/.test(mails[0]), mails[0]);
    const [log] = await api.db.select().from(integrationLogs).where(eq(integrationLogs.dataType, "notification"));
    assertEquals([log.syncStatus, log.dataReference], ["success", `user:${patient.id}`]);
    // A category not chosen for e-mail stays in the portal only.
    const other = await labResultFor(api);
    await api.request("POST", "/labresults/", {
      token: other.doctorToken,
      body: { ...lab, patient: other.patient.id },
    });
    await relayOnce(api.deps);
    assertEquals(await mailOnce(api.deps), 0);
    assertEquals((await api.db.select({ n: count() }).from(notifications))[0].n, 2);
  },
);

appTest("mail is held back during quiet hours and goes out when they end", async (_t, api) => {
  api.clock.current = at("2031-01-06T23:00:00Z");
  const { patient, token, doctorToken } = await labResultFor(api);
  const prefs = {
    channels: { lab_result: { email: true } },
    quiet_hours: { start: "22:00", end: "07:00" },
    time_zone: "UTC",
  };
  await api.request("PUT", "/me/notification-preferences/", { token, body: prefs });
  await api.request("POST", "/labresults/", {
    token: doctorToken,
    body: { patient: patient.id, test_type: "glucose", result_value: "5.1", status: "final" },
  });
  await relayOnce(api.deps);
  assertEquals(await mailOnce(api.deps), 0, "nothing at 23:00");
  assertEquals((await api.mails()).length, 0);
  api.clock.current = at("2031-01-07T07:00:00Z");
  assertEquals(await mailOnce(api.deps), 1, "sent at 07:00");
  assertEquals((await api.mails()).length, 1);
});

appTest(
  "a reminder goes out once, 24 hours ahead, not for a cancelled appointment, anew after a reschedule",
  async (_t, api) => {
    const now = at("2031-01-06T08:00:00Z");
    api.clock.current = now;
    const [patient, doctor] = [await api.makePatient(), await api.makeDoctor()];
    const make = async (start: string, status = "scheduled") => {
      const s = at(start);
      const [row] = await api.db.insert(appointments).values({
        patientId: patient.id,
        doctorId: doctor.id,
        appointmentDate: s,
        durationMinutes: 30,
        endsAt: new Date(s.getTime() + 1800_000),
        status,
      }).returning();
      return row;
    };
    const due = await make("2031-01-07T07:00:00Z");
    await make("2031-01-07T06:00:00Z", "cancelled");
    await make("2031-01-09T07:00:00Z");
    const lead = 24 * 3600_000;
    const claims = await Promise.all(Array.from({ length: 10 }, () => claimDueReminders(api.db, now, lead)));
    assertEquals(claims.reduce((a, b) => a + b, 0), 1, "one reminder, however many instances look");
    assertEquals(await claimDueReminders(api.db, now, lead), 0);
    await relayOnce(api.deps);
    const reminders = await api.db.select().from(notifications).where(eq(notifications.title, "Appointment reminder"));
    assertEquals(reminders.map((n) => n.userId), [patient.id]);
    // Moved to the next day: a new reminder when that is 24 hours away.
    const token = (await api.signIn(patient)).access;
    const moved = await api.request("PATCH", `/appointments/${due.id}/`, {
      token,
      body: { appointment_date: "2031-01-08T09:00:00Z" },
    });
    assertEquals(moved.status, 200, moved.text);
    assertEquals(await claimDueReminders(api.db, at("2031-01-07T10:00:00Z"), lead), 1);
    assertEquals(
      (await api.db.select({ n: count() }).from(outbox).where(eq(outbox.topic, "appointment.reminder")))[0].n,
      2,
    );
  },
);
