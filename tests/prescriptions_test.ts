import { assert, assertEquals } from "@std/assert";
import { and, asc, eq } from "drizzle-orm";
import { auditLogs, prescriptionHistory, prescriptions } from "../db/schema.ts";
import { type Actor, appTest, type TestApp } from "./_fixtures.ts";
import { careCircle } from "./_care.ts";

const NEW = { medication: "Amoxicillin", dosage: "500 mg", frequency: "3 times a day", instructions: "With food" };
const strip = (b: Record<string, unknown>) => ({ ...b, request_id: null });

async function prescribe(api: TestApp, token: string, patient: Actor, extra: Record<string, unknown> = {}) {
  const res = await api.request("POST", "/prescriptions/", { token, body: { patient: patient.id, ...NEW, ...extra } });
  assertEquals(res.status, 201, res.text);
  return res.body as Record<string, unknown> & { id: number };
}

const rowOf = async (api: TestApp, id: number) =>
  (await api.db.select().from(prescriptions).where(eq(prescriptions.id, id)))[0];
const historyOf = (api: TestApp, id: number) =>
  api.db.select().from(prescriptionHistory).where(eq(prescriptionHistory.prescriptionId, id))
    .orderBy(asc(prescriptionHistory.id));

appTest("POST /prescriptions/ lets a doctor prescribe for a patient under care, and records it", async (_t, api) => {
  const { patient, doctor, tokens } = await careCircle(api);
  const created = await prescribe(api, tokens.doctor, patient);
  assertEquals(
    [created.patient, created.doctor, created.status, created.refill_requested, created.medication],
    [patient.id, doctor.id, "active", false, "Amoxicillin"],
  );
  const withOwnId = await prescribe(api, tokens.doctor, patient, { doctor: doctor.id });
  assertEquals(withOwnId.doctor, doctor.id);
  const [entry] = await historyOf(api, created.id);
  assertEquals([entry.change, entry.changedBy, entry.snapshot], ["created", doctor.id, created]);
  const [audit] = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.action, "create"), eq(auditLogs.targetTable, "prescriptions")),
  );
  assertEquals([audit.targetId, audit.patientId, audit.outcome], [String(created.id), patient.id, "success"]);
});

appTest("POST /prescriptions/ refuses a patient not under the doctor's care with 422 on /patient", async (_t, api) => {
  const { patient, doctor, tokens } = await careCircle(api);
  const notUnderCare = await api.request("POST", "/prescriptions/", {
    token: tokens.stranger,
    body: { patient: patient.id, ...NEW },
  });
  const missing = await api.request("POST", "/prescriptions/", {
    token: tokens.stranger,
    body: { patient: 999999, ...NEW },
  });
  assertEquals([notUnderCare.status, notUnderCare.body.errors], [422, [
    { pointer: "/patient", detail: "Not a patient under your care" },
  ]]);
  assertEquals(strip(notUnderCare.body), strip(missing.body), "an unknown patient answers the same");
  const otherDoctor = await api.request("POST", "/prescriptions/", {
    token: tokens.doctor,
    body: { patient: patient.id, doctor: doctor.id + 100, ...NEW },
  });
  assertEquals([otherDoctor.status, (otherDoctor.body.errors as { pointer: string }[])[0].pointer], [422, "/doctor"]);
  const serverOwned = await api.request("POST", "/prescriptions/", {
    token: tokens.doctor,
    body: { patient: patient.id, ...NEW, status: "completed", refill_requested: true },
  });
  assertEquals(serverOwned.status, 422);
  const tooLong = await api.request("POST", "/prescriptions/", {
    token: tokens.doctor,
    body: { patient: patient.id, ...NEW, medication: "x".repeat(201) },
  });
  assertEquals(tooLong.status, 422);
  const byPatient = await api.request("POST", "/prescriptions/", {
    token: tokens.patient,
    body: { patient: patient.id, ...NEW },
  });
  assertEquals(byPatient.status, 403);
  assertEquals((await api.db.select().from(prescriptions)).length, 0, "nothing was written");
  assertEquals((await api.db.select().from(prescriptionHistory)).length, 0);
});

appTest("GET /prescriptions/ shows a patient their own and a doctor those under care only", async (t, api) => {
  const { patient, other, doctor, tokens } = await careCircle(api);
  const mine = await prescribe(api, tokens.doctor, patient);
  const byColleague = await prescribe(api, tokens.colleague, patient);
  const theirs = await prescribe(api, tokens.doctor, other);
  const ids = async (token: string, query = "") => {
    const res = await api.request("GET", `/prescriptions/${query}`, { token });
    assertEquals(res.status, 200, res.text);
    return (res.body.results as { id: number }[]).map((p) => p.id).sort((a, b) => a - b);
  };
  await t.step("patient", async () => assertEquals(await ids(tokens.patient), [mine.id, byColleague.id]));
  await t.step("doctor", async () => assertEquals(await ids(tokens.doctor), [mine.id, byColleague.id, theirs.id]));
  await t.step("colleague", async () => assertEquals(await ids(tokens.colleague), [mine.id, byColleague.id]));
  await t.step("no care", async () => assertEquals(await ids(tokens.stranger), []));
  await t.step("filters", async () => {
    assertEquals(await ids(tokens.doctor, `?patient=${other.id}`), [theirs.id]);
    assertEquals(await ids(tokens.patient, `?doctor=${doctor.id}`), [mine.id]);
    assertEquals(await ids(tokens.patient, "?status=cancelled"), []);
    assertEquals(await ids(tokens.other, `?patient=${patient.id}`), [], "a filter never widens the scope");
  });
  await t.step("a row outside the scope reads exactly like a missing one", async () => {
    const outside = await api.request("GET", `/prescriptions/${theirs.id}/`, { token: tokens.patient });
    const missing = await api.request("GET", "/prescriptions/999999/", { token: tokens.patient });
    assertEquals([outside.status, missing.status], [404, 404]);
    assertEquals(strip(outside.body), strip(missing.body));
    const history = await api.request("GET", `/prescriptions/${theirs.id}/history/`, { token: tokens.patient });
    assertEquals(history.status, 404);
    assertEquals((await api.request("GET", `/prescriptions/${mine.id}/`, { token: tokens.patient })).status, 200);
  });
  await t.step("pages with cursors", async () => {
    const first = await api.request("GET", "/prescriptions/?page_size=2&ordering=id", { token: tokens.doctor });
    assertEquals((first.body.results as unknown[]).length, 2);
    const next = (first.body.next as string).replace(/^https?:\/\/[^/]+/, "");
    const second = await api.request("GET", next, { token: tokens.doctor });
    assertEquals((second.body.results as { id: number }[]).map((p) => p.id), [theirs.id]);
  });
});

appTest("PATCH /prescriptions/{id}/: the patient requests a refill, the prescriber approves it", async (_t, api) => {
  const { patient, doctor, tokens } = await careCircle(api);
  const p = await prescribe(api, tokens.doctor, patient);
  api.clock.advance(60);
  const requested = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.patient,
    body: { refill_requested: true },
  });
  assertEquals(requested.status, 200, requested.text);
  assertEquals([requested.body.refill_requested, requested.body.request_date], [true, api.clock.now().toISOString()]);
  const again = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.patient,
    body: { refill_requested: true },
  });
  assertEquals(again.status, 409);
  api.clock.advance(60);
  const approved = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.doctor,
    body: { approve_refill: true },
  });
  assertEquals(approved.status, 200, approved.text);
  assertEquals(
    [approved.body.refill_requested, approved.body.approved_date, approved.body.request_date],
    [false, api.clock.now().toISOString(), requested.body.request_date],
  );
  const nothingPending = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.doctor,
    body: { approve_refill: true },
  });
  assertEquals(nothingPending.status, 409);
  const history = await historyOf(api, p.id);
  assertEquals(history.map((h) => [h.change, h.changedBy]), [
    ["created", doctor.id],
    ["refill_requested", patient.id],
    ["refill_approved", doctor.id],
  ]);
  assertEquals(history[2].snapshot, approved.body, "the snapshot is the row after the change");
});

appTest("PATCH /prescriptions/{id}/: the prescriber denies a refill only with a reason", async (_t, api) => {
  const { patient, tokens } = await careCircle(api);
  const p = await prescribe(api, tokens.doctor, patient);
  await api.request("PATCH", `/prescriptions/${p.id}/`, { token: tokens.patient, body: { refill_requested: true } });
  const noReason = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.doctor,
    body: { deny_refill: true },
  });
  assertEquals([noReason.status, (noReason.body.errors as { pointer: string }[])[0].pointer], [422, "/denial_reason"]);
  const both = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.doctor,
    body: { deny_refill: true, denial_reason: "x", approve_refill: true },
  });
  assertEquals(both.status, 422);
  assertEquals((await rowOf(api, p.id)).refillRequested, true, "refusals changed nothing");
  const denied = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.doctor,
    body: { deny_refill: true, denial_reason: "Book a follow-up visit first" },
  });
  assertEquals(denied.status, 200, denied.text);
  assertEquals([denied.body.refill_requested, denied.body.denial_reason, denied.body.approved_date], [
    false,
    "Book a follow-up visit first",
    null,
  ]);
  assertEquals((await historyOf(api, p.id)).map((h) => h.change), ["created", "refill_requested", "refill_denied"]);
});

appTest("PATCH /prescriptions/{id}/: a patient may only set refill_requested (422 for dosage)", async (_t, api) => {
  const { patient, tokens } = await careCircle(api);
  const p = await prescribe(api, tokens.doctor, patient);
  const before = await rowOf(api, p.id);
  for (
    const body of [
      { dosage: "5000 mg" },
      { refill_requested: true, dosage: "5000 mg" },
      { approve_refill: true },
      { status: "cancelled" },
    ]
  ) {
    const res = await api.request("PATCH", `/prescriptions/${p.id}/`, { token: tokens.patient, body });
    assertEquals(res.status, 422, JSON.stringify(body));
    const pointers = (res.body.errors as { pointer: string }[]).map((e) => e.pointer);
    assert(!pointers.includes("/refill_requested"), JSON.stringify(pointers));
  }
  const unknown = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.patient,
    body: { refill_requested: true, doctor: 1 },
  });
  assertEquals(unknown.status, 422);
  const notFalse = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.patient,
    body: { refill_requested: false },
  });
  assertEquals(notFalse.status, 422);
  assertEquals(await rowOf(api, p.id), before, "nothing changed");
  assertEquals((await historyOf(api, p.id)).length, 1);
  const otherPatient = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.other,
    body: { refill_requested: true },
  });
  assertEquals(otherPatient.status, 404);
});

appTest("PATCH /prescriptions/{id}/: only the prescriber edits; a colleague gets 403, no care 404", async (_t, api) => {
  const { patient, doctor, tokens } = await careCircle(api);
  const p = await prescribe(api, tokens.doctor, patient);
  const edit = { dosage: "250 mg", frequency: "twice a day", status: "completed" };
  const colleague = await api.request("PATCH", `/prescriptions/${p.id}/`, { token: tokens.colleague, body: edit });
  const stranger = await api.request("PATCH", `/prescriptions/${p.id}/`, { token: tokens.stranger, body: edit });
  assertEquals([colleague.status, stranger.status], [403, 404]);
  const refillByDoctor = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.doctor,
    body: { refill_requested: true },
  });
  assertEquals(refillByDoctor.status, 422);
  const medication = await api.request("PATCH", `/prescriptions/${p.id}/`, {
    token: tokens.doctor,
    body: { medication: "Other" },
  });
  assertEquals(medication.status, 422);
  assertEquals((await historyOf(api, p.id)).length, 1, "refusals left no history");
  const ok = await api.request("PATCH", `/prescriptions/${p.id}/`, { token: tokens.doctor, body: edit });
  assertEquals([ok.status, ok.body.dosage, ok.body.frequency, ok.body.status], [200, ...Object.values(edit)]);
  const history = await api.request("GET", `/prescriptions/${p.id}/history/`, { token: tokens.patient });
  assertEquals(history.status, 200);
  const entries = history.body.results as { change: string; changed_by: number; snapshot: Record<string, unknown> }[];
  assertEquals(entries.map((e) => [e.change, e.changed_by]), [["created", doctor.id], ["updated", doctor.id]]);
  assertEquals(entries[0].snapshot.dosage, "500 mg");
  assertEquals(entries[1].snapshot, ok.body);
  const denied = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.outcome, "denied"), eq(auditLogs.targetTable, "prescriptions"), eq(auditLogs.action, "update")),
  );
  assertEquals(denied.length, 4, "the 403, the 404, the rule's 422 and the validator's 422 were audited as denied");
});

appTest("DELETE /prescriptions/{id}/ is for administrators only", async (_t, api) => {
  const { patient, tokens } = await careCircle(api);
  const admin = await api.makeAdmin();
  const p = await prescribe(api, tokens.doctor, patient);
  for (const token of [tokens.patient, tokens.doctor]) {
    assertEquals((await api.request("DELETE", `/prescriptions/${p.id}/`, { token })).status, 403);
  }
  assert(await rowOf(api, p.id), "still there");
  const adminToken = (await api.signIn(admin)).access;
  assertEquals((await api.request("GET", `/prescriptions/${p.id}/`, { token: adminToken })).status, 200);
  assertEquals((await api.request("DELETE", `/prescriptions/${p.id}/`, { token: adminToken })).status, 204);
  assertEquals((await api.request("DELETE", `/prescriptions/${p.id}/`, { token: adminToken })).status, 404);
  assertEquals(await rowOf(api, p.id), undefined);
});
