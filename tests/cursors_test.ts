/**
 * Issue 9, point 14: a list's `cursor` is the server's own. A cursor that was altered, forged or
 * made for another list is 400 `invalid-cursor` on every list, never a 500 or a database error;
 * the cursors the server hands out keep working.
 */
import { assert, assertEquals } from "@std/assert";
import { base64url } from "jose";
import { integrationLogs, labResults, messages, notifications, payments, prescriptions } from "../db/schema.ts";
import { putUnderCare } from "./_care.ts";
import { appTest, type TestApp } from "./_fixtures.ts";
import { appointmentOf } from "./_payments.ts";

const INVALID_CURSOR = "urn:problem-type:patient-portal:invalid-cursor";

/** Every list and ordering, the timestamp ones first (a cursor there carries an instant). */
const LISTS: { path: string; orderings: string[]; who: "admin" | "patient" }[] = [
  { path: "/appointments/", orderings: ["appointment_date", "-created_at"], who: "admin" },
  { path: "/prescriptions/", orderings: ["created_at", "-updated_at", "id"], who: "admin" },
  { path: "/labresults/", orderings: ["result_date", "-created_at", "id"], who: "admin" },
  { path: "/users/", orderings: ["created_at", "-username", "id"], who: "admin" },
  { path: "/userroles/", orderings: ["assigned_at", "-id"], who: "admin" },
  { path: "/patients/", orderings: ["created_at", "-last_name", "id"], who: "admin" },
  { path: "/auditlogs/", orderings: ["event_timestamp", "-event_timestamp", "id"], who: "admin" },
  { path: "/me/access-log/", orderings: [""], who: "patient" },
  { path: "/doctors/", orderings: ["last_name", "id"], who: "admin" },
  { path: "/roles/", orderings: ["role_name", "id"], who: "admin" },
  { path: "/notifications/", orderings: ["", "id"], who: "patient" },
  { path: "/messages/", orderings: ["sent_at", "-id"], who: "patient" },
  { path: "/payments/", orderings: ["-created_at", "id"], who: "admin" },
  { path: "/integrationlogs/", orderings: ["created_at", "-id"], who: "admin" },
];

async function world(api: TestApp) {
  const [admin, patient, doctor, doctor2] = [
    await api.makeAdmin(),
    await api.makePatient(),
    await api.makeDoctor(),
    await api.makeDoctor(),
  ];
  await api.makePatient();
  await putUnderCare(api, doctor, patient);
  await putUnderCare(api, doctor2, patient);
  for (const medication of ["a", "b", "c"]) {
    await api.db.insert(prescriptions).values({
      patientId: patient.id,
      doctorId: doctor.id,
      medication,
      dosage: "1",
      frequency: "daily",
    });
    await api.db.insert(labResults).values({
      patientId: patient.id,
      physicianId: doctor.id,
      testType: medication,
      status: "final",
    });
    await api.db.insert(notifications).values({ userId: patient.id, title: medication, message: "m" });
    await api.db.insert(messages).values({ senderId: patient.id, receiverId: doctor.id, messageBody: medication });
    await api.db.insert(integrationLogs).values({
      systemName: "mail:file",
      dataType: medication,
      syncStatus: "success",
    });
    const appointment = await appointmentOf(api, patient, doctor);
    await api.db.insert(payments).values({
      patientId: patient.id,
      appointmentId: appointment,
      amount: 100,
      currency: "USD",
      paymentMethod: "card",
      provider: "sandbox",
    });
  }
  const tokens = { admin: (await api.signIn(admin)).access, patient: (await api.signIn(patient)).access };
  // The patient's record read by the admin: events in the patient's access log.
  for (let i = 0; i < 3; i++) await api.request("GET", `/patients/${patient.id}/`, { token: tokens.admin });
  return tokens;
}

/** A cursor's parts: the server's cursors are `payload.signature`, both base64url. */
function split(cursor: string): { payload: Record<string, unknown>; signature: string } {
  const [payload, signature = ""] = cursor.split(".");
  return { payload: JSON.parse(new TextDecoder().decode(base64url.decode(payload))), signature };
}
const encode = (payload: unknown) => base64url.encode(JSON.stringify(payload));

/**
 * The last character of a 32-byte signature in base64url carries 4 bits and 2 unused ones: the
 * same bytes spelt with an unused bit set.
 */
function respelt(last = "A"): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return alphabet[alphabet.indexOf(last) ^ 1];
}

/** Alterations an attacker would try on a genuine cursor. */
function tamperings(cursor: string): [string, string][] {
  const { payload, signature } = split(cursor);
  // (Unsigned cursors, as the server made them before, are altered the same way.)
  const withSignature = (p: unknown) => signature ? `${encode(p)}.${signature}` : encode(p);
  const out: [string, string][] = [
    ["the signature left off", signature ? encode(payload) : `${encode(payload)}.`],
    ["another row id, same signature", withSignature({ ...payload, i: Number(payload.i) + 1 })],
    ["a text value, same signature", withSignature({ ...payload, v: "not a time", t: undefined })],
    ["a number value, same signature", withSignature({ ...payload, v: 1e300 })],
    ["an instant after year 9999", withSignature({ ...payload, v: "+275760-09-13T00:00:00.000Z", t: "date" })],
    // The first character: always a change of the MAC's bytes (a fixed "AA" at the end was, one time
    // in 1,024, the signature itself).
    ["the signature changed", `${encode(payload)}.${signature[0] === "A" ? "B" : "A"}${signature.slice(1)}`],
    ["the signature spelt differently", `${encode(payload)}.${signature.slice(0, -1)}${respelt(signature.at(-1))}`],
    ["garbage", "garbage"],
    ["two dots", `${encode(payload)}.${signature}.x`],
  ];
  // The same value, declared not to be a date: today the server believed it.
  if (payload.t === "date") out.push(["the date flag dropped", withSignature({ ...payload, t: undefined })]);
  return out;
}

appTest("a tampered or forged cursor is 400 invalid-cursor on every list and ordering", async (t, api) => {
  const tokens = await world(api);
  for (const list of LISTS) {
    for (const ordering of list.orderings) {
      const base = `${list.path}?page_size=1${ordering ? `&ordering=${ordering}` : ""}`;
      await t.step(`${base}`, async () => {
        const first = await api.request("GET", base, { token: tokens[list.who] });
        assertEquals(first.status, 200, first.text);
        const next = first.body.next as string | null;
        assert(next, `${base} has a next page`);
        const cursor = new URL(next).searchParams.get("cursor")!;
        const genuine = await api.request("GET", `${base}&cursor=${encodeURIComponent(cursor)}`, {
          token: tokens[list.who],
        });
        assertEquals(genuine.status, 200, genuine.text);
        const answers: string[] = [];
        const expected: string[] = [];
        for (const [what, forged] of tamperings(cursor)) {
          const res = await api.request("GET", `${base}&cursor=${encodeURIComponent(forged)}`, {
            token: tokens[list.who],
          });
          answers.push(`${what}: ${res.status} ${res.body.type ?? ""}`);
          expected.push(`${what}: 400 ${INVALID_CURSOR}`);
        }
        assertEquals(answers, expected);
      });
    }
  }
});

appTest("a cursor made for one list is refused by another", async (_t, api) => {
  const tokens = await world(api);
  const users = await api.request("GET", "/users/?page_size=1&ordering=created_at", { token: tokens.admin });
  const cursor = new URL(users.body.next as string).searchParams.get("cursor")!;
  const other = await api.request("GET", `/patients/?page_size=1&ordering=created_at&cursor=${cursor}`, {
    token: tokens.admin,
  });
  assertEquals([other.status, other.body.type], [400, INVALID_CURSOR], other.text);
});
