import { assert, assertEquals } from "@std/assert";
import { count, eq, isNotNull } from "drizzle-orm";
import { notifications, outbox } from "../db/schema.ts";
import { relayOnce } from "../services/notification_relay.ts";
import { unitOfWork } from "../services/unit_of_work.ts";
import { appTest, type TestApp } from "./_fixtures.ts";
import { DRIVER } from "./_db.ts";

const NOW = new Date("2031-01-06T06:00:00Z");

async function booked(api: TestApp) {
  api.clock.current = new Date(NOW);
  const [patient, doctor] = [await api.makePatient(), await api.makeDoctor()];
  const token = (await api.signIn(patient)).access;
  const res = await api.request("POST", "/appointments/", {
    token,
    body: { doctor: doctor.id, appointment_date: "2031-02-03T10:00:00Z", reason: "chest pain since Monday" },
  });
  assertEquals(res.status, 201, res.text);
  return { patient, doctor, token, appointment: res.body.id as number };
}

const rowsOf = (api: TestApp, userId: number) =>
  api.db.select().from(notifications).where(eq(notifications.userId, userId));

appTest(
  "a booking notifies the patient and the doctor once, with no health details, through the outbox",
  async (_t, api) => {
    const { patient, doctor, token } = await booked(api);
    assertEquals((await api.db.select({ n: count() }).from(notifications))[0].n, 0, "nothing before the relay runs");
    assertEquals(await relayOnce(api.deps), 1);
    assertEquals(await relayOnce(api.deps), 0, "an event is relayed once");
    const [mine] = await rowsOf(api, patient.id);
    assertEquals([mine.type, mine.title, mine.status], ["appointment", "Appointment booked", "unread"]);
    assert(!mine.message.includes("chest"), "the reason is not in the notification");
    assertEquals((await rowsOf(api, doctor.id)).length, 1);
    const list = await api.request("GET", "/notifications/", { token });
    assertEquals([list.status, list.body.unread, (list.body.results as unknown[]).length], [200, 1, 1]);
    const count1 = await api.request("GET", "/notifications/unread-count/", { token });
    assertEquals(count1.body, { unread: 1 });
    const read = await api.request("PATCH", `/notifications/${mine.id}/`, { token, body: { status: "read" } });
    assertEquals([read.status, read.body.status, typeof read.body.read_at], [200, "read", "string"]);
    const changed = await api.request("PATCH", `/notifications/${mine.id}/`, { token, body: { title: "mine now" } });
    assertEquals(changed.status, 422, "only the status changes");
    assertEquals((await api.request("GET", "/notifications/?status=unread", { token })).body.unread, 0);
  },
);

appTest("nobody reads or marks another user's notification, administrators included", async (_t, api) => {
  const { doctor } = await booked(api);
  await relayOnce(api.deps);
  const [theirs] = await rowsOf(api, doctor.id);
  const admin = await api.makeAdmin();
  const other = await api.makePatient();
  for (const who of [admin, other]) {
    const token = (await api.signIn(who)).access;
    assertEquals((await api.request("GET", `/notifications/${theirs.id}/`, { token })).status, 404);
    assertEquals(
      (await api.request("PATCH", `/notifications/${theirs.id}/`, { token, body: { status: "read" } })).status,
      404,
    );
    assertEquals(((await api.request("GET", "/notifications/", { token })).body.results as unknown[]).length, 0);
  }
  assertEquals((await rowsOf(api, doctor.id))[0].status, "unread");
});

appTest("an administrator writes a notification to a user; others may not", async (_t, api) => {
  const [admin, patient] = [await api.makeAdmin(), await api.makePatient()];
  const adminToken = (await api.signIn(admin)).access;
  const body = { user: patient.id, title: "Clinic closed", message: "The clinic is closed on Monday." };
  const res = await api.request("POST", "/notifications/", { token: adminToken, body });
  assertEquals([res.status, res.body.user, res.body.type], [201, patient.id, "general"]);
  const patientToken = (await api.signIn(patient)).access;
  assertEquals((await api.request("POST", "/notifications/", { token: patientToken, body })).status, 403);
  assertEquals((await rowsOf(api, patient.id)).length, 1);
});

appTest("a change that rolls back leaves no event and no notification", async (_t, api) => {
  api.clock.current = new Date(NOW);
  const patient = await api.makePatient();
  const uow = unitOfWork({
    db: api.db,
    actor: null,
    origin: { ipAddress: null, userAgent: null, requestId: "rolled-back" },
    clock: api.clock.now,
    logger: api.deps.logger,
    audit: { action: "create", table: "appointments" },
  });
  await uow.write(async (_tx, effects) => {
    await effects.emit({ topic: "lab_result.released", payload: { lab_result: 1, patient: patient.id } });
    throw new Error("the change fails after emitting");
  }).catch(() => {});
  assertEquals((await api.db.select({ n: count() }).from(outbox))[0].n, 0);
  assertEquals(await relayOnce(api.deps), 0);
  assertEquals((await rowsOf(api, patient.id)).length, 0);
});

appTest("50 relays running at once deliver each event exactly once", async (_t, api) => {
  api.clock.current = new Date(NOW);
  const patients = await Promise.all(Array.from({ length: 20 }, () => api.makePatient()));
  await api.db.insert(outbox).values(
    patients.flatMap((p, i) =>
      Array.from(
        { length: 5 },
        (_, k) => ({ topic: "lab_result.released", payload: { lab_result: i * 10 + k, patient: p.id } }),
      )
    ),
  );
  // Fifty relays, each taking batches of three until nothing is left.
  const taken = await Promise.all(Array.from({ length: 50 }, async () => {
    let mine = 0;
    for (let n; (n = await relayOnce(api.deps, 3)) > 0;) mine += n;
    return mine;
  }));
  assertEquals(taken.reduce((a, b) => a + b, 0), 100, `${DRIVER}: the relays took each event once between them`);
  const [{ n }] = await api.db.select({ n: count() }).from(notifications);
  assertEquals(n, 100, "one notification per event");
  const processed = await api.db.select({ n: count() }).from(outbox).where(isNotNull(outbox.processedAt));
  assertEquals(processed[0].n, 100, "every event marked processed");
});
