import { assert, assertEquals } from "@std/assert";
import { count, eq } from "drizzle-orm";
import { appointments, idempotencyKeys, prescriptions, userRoles } from "../db/schema.ts";
import { declaredRoutes } from "../routes/_route.ts";
import { appTest, type TestApp } from "./_fixtures.ts";
import { putUnderCare } from "./_care.ts";

const NOW = new Date("2031-01-06T06:00:00Z");

async function booking(api: TestApp) {
  api.clock.current = new Date(NOW);
  const [patient, doctor] = [await api.makePatient(), await api.makeDoctor()];
  const token = (await api.signIn(patient)).access;
  const body = { doctor: doctor.id, appointment_date: "2031-02-03T10:00:00Z", duration_minutes: 30 };
  const post = (key: string, b: unknown = body, tok = token) =>
    api.request("POST", "/appointments/", { token: tok, body: b, headers: { "idempotency-key": key } });
  return { patient, doctor, token, body, post };
}

const appointmentCount = async (api: TestApp) => (await api.db.select({ n: count() }).from(appointments))[0].n;

appTest("POST with a repeated Idempotency-Key returns the first answer and creates nothing more", async (_t, api) => {
  const { post } = await booking(api);
  const first = await post("retry-1");
  assertEquals(first.status, 201, first.text);
  const again = await post("retry-1");
  assertEquals([again.status, again.body, again.headers.get("idempotent-replayed")], [201, first.body, "true"]);
  assertEquals(await appointmentCount(api), 1);
  // The stored answer is the first one even after the row changed.
  await api.db.update(appointments).set({ notes: "changed later" });
  assertEquals((await post("retry-1")).body, first.body);
});

appTest("the same Idempotency-Key with another body is 422 and changes nothing", async (_t, api) => {
  const { post, body } = await booking(api);
  assertEquals((await post("k-2")).status, 201);
  const other = await post("k-2", { ...body, appointment_date: "2031-02-03T11:00:00Z" });
  assertEquals([other.status, other.body.type], [422, "urn:problem-type:patient-portal:idempotency-key-reused"]);
  // Key order and spacing are not a different body.
  const reordered = await post("k-2", {
    duration_minutes: 30,
    appointment_date: body.appointment_date,
    doctor: body.doctor,
  });
  assertEquals(reordered.status, 201);
  assertEquals(await appointmentCount(api), 1);
});

appTest("concurrent requests with one Idempotency-Key create one row and all get the same answer", async (_t, api) => {
  const { post } = await booking(api);
  const answers = await Promise.all(Array.from({ length: 16 }, () => post("together")));
  const statuses = answers.map((a) => a.status);
  assertEquals(statuses.filter((s) => s === 201).length, 16, JSON.stringify(answers.map((a) => a.text)));
  for (const a of answers) assertEquals(a.body, answers[0].body);
  assertEquals(await appointmentCount(api), 1);
  const keys = await api.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, "together"));
  assertEquals(keys.length, 1);
});

appTest("a refused request keeps no key; keys are per user and expire after 24 hours", async (_t, api) => {
  const { post, body, doctor, patient } = await booking(api);
  const refused = await post("k-3", { ...body, appointment_date: "2020-01-01T10:00:00Z" });
  assertEquals(refused.status, 422);
  assertEquals((await post("k-3")).status, 201, "a refusal is not remembered");
  const other = await api.makePatient();
  const otherToken = (await api.signIn(other)).access;
  const mine = await post("k-3", { ...body, appointment_date: "2031-02-03T12:00:00Z" }, otherToken);
  assertEquals(mine.status, 201, "another user's key is another key");
  api.clock.advance(25 * 3600);
  const fresh = (await api.signIn(patient)).access;
  const later = await post("k-3", { doctor: doctor.id, appointment_date: "2031-02-04T10:00:00Z" }, fresh);
  assertEquals(later.status, 201, "an expired key is a new key");
  assertEquals(await appointmentCount(api), 3);
});

appTest("a malformed Idempotency-Key is 400", async (_t, api) => {
  const { post } = await booking(api);
  for (const key of ["", "has space", "x".repeat(256)]) {
    const res = await post(key);
    assertEquals([res.status, res.body.type], [400, "urn:problem-type:patient-portal:invalid-idempotency-key"], key);
  }
  assertEquals(await appointmentCount(api), 0);
});

appTest("Idempotency-Key holds for prescriptions, role assignments and every other create", async (_t, api) => {
  const [doctor, patient, admin] = [await api.makeDoctor(), await api.makePatient(), await api.makeAdmin()];
  await putUnderCare(api, doctor, patient);
  const doc = (await api.signIn(doctor)).access;
  const rx = { patient: patient.id, medication: "Amoxicillin", dosage: "500 mg", frequency: "3/day" };
  const a = await api.request("POST", "/prescriptions/", {
    token: doc,
    body: rx,
    headers: { "idempotency-key": "rx" },
  });
  const b = await api.request("POST", "/prescriptions/", {
    token: doc,
    body: rx,
    headers: { "idempotency-key": "rx" },
  });
  assertEquals([a.status, b.status, b.body], [201, 201, a.body]);
  assertEquals((await api.db.select({ n: count() }).from(prescriptions))[0].n, 1);
  const adm = (await api.signIn(admin)).access;
  const user = await api.makeUser([]);
  const role = (await api.request("GET", "/roles/?page_size=200", { token: adm })).body.results as { id: number }[];
  const assign = { user: user.id, role: role[0].id };
  const headers = { "idempotency-key": "assign" };
  const x = await api.request("POST", "/userroles/", { token: adm, body: assign, headers });
  const y = await api.request("POST", "/userroles/", { token: adm, body: assign, headers });
  assertEquals([x.status, y.status, y.body], [201, 201, x.body]);
  assertEquals((await api.db.select({ n: count() }).from(userRoles).where(eq(userRoles.userId, user.id)))[0].n, 1);
  // Every signed-in POST that creates a row honours the header.
  const creates = declaredRoutes.filter((r) => r.method === "post" && r.access.kind !== "public" && !r.idempotent)
    .map((r) => r.path)
    .filter((p) => !["/logout", "/auditlogs"].includes(p));
  assertEquals(creates, [], "creating POST routes without Idempotency-Key support");
  assert(true);
});
