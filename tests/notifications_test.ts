import { assert, assertEquals } from "@std/assert";
import { count, eq, gt, isNotNull, max } from "drizzle-orm";
import { notifications, outbox } from "../db/schema.ts";
import { relayOnce } from "../services/notification_relay.ts";
import { unitOfWork } from "../services/unit_of_work.ts";
import { insertNotifications, type NotificationType } from "../db/notifications.ts";
import { type Actor, type ApiResponse, appTest, type TestApp } from "./_fixtures.ts";
import { careCircle } from "./_care.ts";
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

appTest("GET /notifications/?status= and ?type= list only the caller's matching notifications", async (_t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makePatient()];
  const rows = (userId: number) =>
    (["general", "appointment", "payment", "appointment", "lab_result"] as const).map((type, i) => ({
      userId,
      type,
      title: `t${i}`,
      message: `m${i}`,
    }));
  // Bob's rows, of every type and status, sit before and after Alice's.
  const bobs = await insertNotifications(api.db, rows(bob.id), api.clock.now());
  const mine = await insertNotifications(api.db, rows(alice.id), api.clock.now());
  bobs.push(...await insertNotifications(api.db, rows(bob.id), api.clock.now()));
  const token = (await api.signIn(alice)).access;
  const bobToken = (await api.signIn(bob)).access;
  for (const [who, n] of [[token, mine[1]], [token, mine[2]], [bobToken, bobs[1]], [bobToken, bobs[4]]] as const) {
    const read = await api.request("PATCH", `/notifications/${n.id}/`, { token: who, body: { status: "read" } });
    assertEquals(read.status, 200);
  }
  const ids = async (query: string) => {
    const res = await api.request("GET", `/notifications/${query}`, { token });
    assertEquals(res.status, 200, res.text);
    const results = res.body.results as { id: number; user: number }[];
    assert(results.every((n) => n.user === alice.id), `${query}: only the caller's`);
    return results.map((n) => n.id);
  };
  const newestFirst = (...i: number[]) => i.map((k) => mine[k].id).sort((a, b) => b - a);
  assertEquals(await ids(""), newestFirst(0, 1, 2, 3, 4));
  assertEquals(await ids("?status=unread"), newestFirst(0, 3, 4));
  assertEquals(await ids("?status=read"), newestFirst(1, 2));
  assertEquals(await ids("?type=appointment"), newestFirst(1, 3));
  assertEquals(await ids("?type=lab_result"), newestFirst(4));
  assertEquals(await ids("?type=message"), []);
  assertEquals(await ids("?type=appointment&status=unread"), newestFirst(3));
  assertEquals(await ids("?type=payment&status=unread"), []);
  assertEquals(await ids("?type=appointment&status=read&ordering=id"), [mine[1].id]);
  const filtered = await api.request("GET", "/notifications/?type=payment", { token });
  assertEquals(filtered.body.unread, 3, "`unread` is the caller's overall unread count, whatever the filters");
  for (const [query, parameter] of [["?status=archived", "status"], ["?type=sms", "type"]]) {
    const res = await api.request("GET", `/notifications/${query}`, { token });
    assertEquals([res.status, (res.body.errors as { parameter: string }[])[0]?.parameter], [400, parameter], query);
  }
});

/** The notifications written after `mark` (an id), per user, as [type, title]. */
async function newSince(api: TestApp, mark: number) {
  const rows = await api.db.select().from(notifications).where(gt(notifications.id, mark)).orderBy(notifications.id);
  const byUser = new Map<number, [string, string][]>();
  for (const n of rows) byUser.set(n.userId, [...(byUser.get(n.userId) ?? []), [n.type, n.title]]);
  return byUser;
}

const lastId = async (api: TestApp) =>
  (await api.db.select({ id: max(notifications.id) }).from(notifications))[0].id ?? 0;

/**
 * Runs an API action, relays its one event, and checks who got what: each of `expected` exactly one
 * notification (its type and title), and nobody else anything.
 */
async function relayed(
  api: TestApp,
  action: () => Promise<ApiResponse>,
  expected: [Actor, NotificationType, string][],
  unrelated: Actor[],
) {
  const mark = await lastId(api);
  const res = await action();
  assert(res.status < 300, `${res.status} ${res.text}`);
  assertEquals((await newSince(api, mark)).size, 0, "nothing before the relay runs");
  assertEquals(await relayOnce(api.deps), 1, "one event");
  const got = await newSince(api, mark);
  for (const [who, type, title] of expected) {
    assertEquals(got.get(who.id), [[type, title]], `${who.username}: exactly one ${type} notification`);
  }
  for (const who of unrelated) assertEquals(got.get(who.id), undefined, `${who.username}: none`);
  assertEquals(got.size, expected.length, "nobody else");
  return got;
}

appTest(
  "a cancellation and a reschedule notify the patient and the doctor once each, through the relay",
  async (_t, api) => {
    const { patient, doctor, token, appointment } = await booked(api);
    await relayOnce(api.deps);
    const [otherPatient, otherDoctor] = [await api.makePatient(), await api.makeDoctor()];
    const unrelated = [otherPatient, otherDoctor];
    const patch = (tok: string, id: number, body: Record<string, unknown>) => () =>
      api.request("PATCH", `/appointments/${id}/`, { token: tok, body });
    await relayed(api, patch(token, appointment, { appointment_date: "2031-02-04T10:00:00Z" }), [
      [patient, "appointment", "Appointment moved"],
      [doctor, "appointment", "Appointment moved"],
    ], unrelated);
    await relayed(api, patch(token, appointment, { status: "cancelled", cancellation_reason: "Travelling" }), [
      [patient, "appointment", "Appointment cancelled"],
      [doctor, "appointment", "Appointment cancelled"],
    ], unrelated);
    // The doctor cancels another booking: the same two hear of it.
    const second = await api.request("POST", "/appointments/", {
      token,
      body: { doctor: doctor.id, appointment_date: "2031-02-05T10:00:00Z" },
    });
    assertEquals(second.status, 201, second.text);
    await relayOnce(api.deps);
    const doctorToken = (await api.signIn(doctor)).access;
    await relayed(api, patch(doctorToken, second.body.id as number, { status: "cancelled" }), [
      [patient, "appointment", "Appointment cancelled"],
      [doctor, "appointment", "Appointment cancelled"],
    ], unrelated);
    assertEquals(await relayOnce(api.deps), 0, "each event relayed once");
  },
);

appTest(
  "a refill request notifies the prescriber; its approval or denial notifies the patient, once each",
  async (_t, api) => {
    const { patient, other, doctor, colleague, tokens } = await careCircle(api);
    const created = await api.request("POST", "/prescriptions/", {
      token: tokens.doctor,
      body: { patient: patient.id, medication: "Amoxicillin", dosage: "500 mg", frequency: "3 times a day" },
    });
    assertEquals(created.status, 201, created.text);
    assertEquals(await relayOnce(api.deps), 0, "prescribing notifies nobody");
    const patch = (tok: string, body: Record<string, unknown>) => () =>
      api.request("PATCH", `/prescriptions/${created.body.id}/`, { token: tok, body });
    const request = patch(tokens.patient, { refill_requested: true });
    const requested = await relayed(api, request, [[doctor, "prescription", "Refill requested"]], [
      patient,
      other,
      colleague,
    ]);
    assert(!JSON.stringify([...requested]).includes("Amoxicillin"));
    await relayed(api, patch(tokens.doctor, { approve_refill: true }), [[patient, "prescription", "Refill approved"]], [
      doctor,
      other,
      colleague,
    ]);
    await relayed(api, request, [[doctor, "prescription", "Refill requested"]], [patient, other, colleague]);
    const deny = patch(tokens.doctor, { deny_refill: true, denial_reason: "Book a follow-up visit first" });
    await relayed(api, deny, [[patient, "prescription", "Refill declined"]], [doctor, other, colleague]);
    const [mine] = (await rowsOf(api, patient.id)).filter((n) => n.title === "Refill declined");
    assert(!mine.message.includes("follow-up"), "the reason stays in the portal");
  },
);

appTest("a corrected lab result notifies its patient once, as a new lab result", async (_t, api) => {
  const { patient, other, doctor, colleague, tokens } = await careCircle(api);
  const body = { patient: patient.id, test_type: "HbA1c", result_value: "7.9", unit: "%", status: "final" };
  const record = () => api.request("POST", "/labresults/", { token: tokens.doctor, body });
  const unrelated = [doctor, other, colleague];
  let id = 0;
  await relayed(
    api,
    async () => {
      const res = await record();
      id = res.body.id as number;
      return res;
    },
    [[patient, "lab_result", "New lab result"]],
    unrelated,
  );
  const correct = () =>
    api.request("POST", `/labresults/${id}/corrections/`, { token: tokens.doctor, body: { result_value: "6.9" } });
  await relayed(api, correct, [[patient, "lab_result", "New lab result"]], unrelated);
  const [latest] = (await rowsOf(api, patient.id)).sort((a, b) => b.id - a.id);
  assert(!latest.message.includes("HbA1c") && !latest.message.includes("6.9"), "no health details");
});
