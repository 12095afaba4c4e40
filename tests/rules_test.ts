/**
 * The pure rules, table by table, with no database and no HTTP: the appointment state machine,
 * free slots, cursors, permission resolution, and who may change an account or a prescription.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { appointments } from "../db/schema.ts";
import { DomainError } from "../errors.ts";
import { type Access, resolveAccess } from "../middleware/access.ts";
import { planAccountChange } from "../services/account_rules.ts";
import { type ChangeRequest, type Party, planChange } from "../services/appointment_rules.ts";
import { type Cursor, decodeCursor, encodeCursor, keyset } from "../services/pagination.ts";
import type { Permission } from "../services/permissions.ts";
import { planPrescriptionChange } from "../services/prescription_rules.ts";
import { freeSlots, parseLocalDate } from "../services/working_hours.ts";

const NOW = new Date("2031-01-06T12:00:00Z");
const hours = (h: number) => new Date(NOW.getTime() + h * 3600_000);
const kindOf = (fn: () => unknown): string => {
  try {
    fn();
    return "ok";
  } catch (e) {
    return e instanceof DomainError ? e.kind : `bug: ${e}`;
  }
};

Deno.test("the appointment state machine: who may move an appointment from which status, and when", () => {
  const base = {
    patientId: 1,
    doctorId: 2,
    durationMinutes: 30,
    notes: "",
    reason: "",
    cancellationReason: "",
  };
  const cases: [string, { status: string; start: Date }, Party[], ChangeRequest, string][] = [
    ["the patient cancels before the start", { status: "scheduled", start: hours(24) }, ["patient"], {
      status: "cancelled",
    }, "ok"],
    ["the patient may not cancel once started", { status: "scheduled", start: hours(-1) }, ["patient"], {
      status: "cancelled",
    }, "invalid"],
    ["the doctor cancels after the start", { status: "scheduled", start: hours(-1) }, ["doctor"], {
      status: "cancelled",
    }, "ok"],
    ["the patient reschedules by moving it", { status: "scheduled", start: hours(24) }, ["patient"], {
      appointment_date: hours(48).toISOString(),
    }, "ok"],
    ["the doctor may not reschedule", { status: "scheduled", start: hours(24) }, ["doctor"], {
      appointment_date: hours(48).toISOString(),
    }, "forbidden"],
    ["moving into the past", { status: "scheduled", start: hours(24) }, ["admin"], {
      appointment_date: hours(-5).toISOString(),
    }, "invalid"],
    ["the doctor completes once started", { status: "scheduled", start: hours(-1) }, ["doctor"], {
      status: "completed",
    }, "ok"],
    [
      "nobody completes before the start",
      { status: "scheduled", start: hours(1) },
      ["admin"],
      { status: "completed" },
      "invalid",
    ],
    [
      "the patient may not mark no-show",
      { status: "scheduled", start: hours(-1) },
      ["patient"],
      { status: "no_show" },
      "forbidden",
    ],
    [
      "a cancelled one is final",
      { status: "cancelled", start: hours(24) },
      ["admin"],
      { status: "completed" },
      "invalid",
    ],
    ["`rescheduled` is set by moving, not by asking", { status: "scheduled", start: hours(24) }, ["admin"], {
      status: "rescheduled",
    }, "invalid"],
    [
      "the patient edits the reason",
      { status: "rescheduled", start: hours(24) },
      ["patient"],
      { reason: "pain" },
      "ok",
    ],
    [
      "the patient may not edit notes",
      { status: "scheduled", start: hours(24) },
      ["patient"],
      { notes: "x" },
      "forbidden",
    ],
    ["a cancellation reason only with cancelling", { status: "scheduled", start: hours(24) }, ["admin"], {
      cancellation_reason: "x",
    }, "invalid"],
    ["echoing the current values is no change", { status: "scheduled", start: hours(24) }, ["patient"], {
      patient: 1,
      doctor: 2,
    }, "ok"],
    ["another patient id is refused", { status: "scheduled", start: hours(24) }, ["admin"], { patient: 9 }, "invalid"],
  ];
  for (const [name, state, parties, request, expected] of cases) {
    const current = { ...base, status: state.status, appointmentDate: state.start };
    assertEquals(kindOf(() => planChange(current, request, new Set(parties), NOW)), expected, name);
  }
  const moved = planChange(
    { ...base, status: "scheduled", appointmentDate: hours(24) },
    {
      appointment_date: hours(48).toISOString(),
    },
    new Set(["patient"]),
    NOW,
  );
  assertEquals([moved.transition, moved.changes.status], ["reschedule", "rescheduled"]);
});

Deno.test("free slots: inside the working hours of the doctor's zone, future only, never overlapping a booking", () => {
  const date = parseLocalDate("2031-01-07")!; // a Tuesday
  const schedule = { workingHours: { tue: [{ start: "09:00", end: "11:00" }] }, timeZone: "Europe/Paris" };
  const busy = [{ start: new Date("2031-01-07T08:30:00Z"), end: new Date("2031-01-07T09:00:00Z") }];
  const slots = freeSlots(schedule, date, 30, busy, NOW).map((s) => s.start.toISOString());
  // 09:00–11:00 in Paris is 08:00–10:00 UTC; the 09:30 local slot is booked.
  assertEquals(slots, ["2031-01-07T08:00:00.000Z", "2031-01-07T09:00:00.000Z", "2031-01-07T09:30:00.000Z"]);
  assertEquals(freeSlots({ ...schedule, workingHours: { mon: [] } }, date, 30, [], NOW), [], "no hours on Tuesday");
  const noHours = freeSlots({ workingHours: null, timeZone: "UTC" }, date, 480, [], NOW);
  assertEquals(noHours.length, 3, "without working hours, the whole day");
  assertEquals(freeSlots(schedule, date, 30, [], new Date("2031-01-07T09:10:00Z")).length, 1, "only future slots");
  for (const text of ["2031-02-30", "2031-1-7", "0999-01-01", "", undefined]) assertEquals(parseLocalDate(text), null);
});

Deno.test("cursors: a page's edge round-trips, and a tampered, unsigned or foreign cursor is refused", () => {
  type Row = { id: number; at: Date };
  const orderings = { at: { column: appointments.appointmentDate, value: (r: Row) => r.at } };
  const id = { column: appointments.id, value: (r: Row) => r.id };
  const key = crypto.getRandomValues(new Uint8Array(32));
  const signer = { key, list: "appointments.id" };
  const rows = [1, 2, 3].map((i) => ({ id: i, at: new Date(Date.UTC(2031, 0, i)) }));
  const first = keyset<Row>({ ordering: "at", pageSize: 2 }, orderings, id, key).slice(rows);
  assertEquals([first.rows.length, first.previous], [2, null]);
  const decoded = decodeCursor(first.next!, "at", signer);
  assertEquals([decoded.v, decoded.i, decoded.d, decoded.t], ["2031-01-02T00:00:00.000Z", 2, "n", "date"]);
  const second = keyset<Row>({ ordering: "at", pageSize: 2, cursor: first.next! }, orderings, id, key);
  assert(second.where !== undefined, "a cursor narrows the query");
  const signed = (c: unknown) => encodeCursor(c as Cursor, signer);
  const bad = [
    "not-base64!",
    btoa(JSON.stringify({ o: "at", v: "2031-01-02T00:00:00.000Z", t: "date", i: 2, d: "n" })),
    `${first.next!.split(".")[0]}.${btoa("x".repeat(32))}`,
    signed({ o: "-at", v: "2031-01-02", i: 2, d: "n" }),
    signed({ o: "at", v: "yesterday", t: "date", i: 2, d: "n" }),
    signed({ o: "at", v: {}, i: 2, d: "n" }),
    signed({ o: "at", v: 1, i: 1.5, d: "n" }),
    signed({ o: "at", v: 1, i: 1, d: "sideways" }),
  ];
  for (const cursor of bad) assertEquals(kindOf(() => decodeCursor(cursor, "at", signer)), "malformed", cursor);
  const otherList = { key, list: "users.id" };
  const otherKey = { key: crypto.getRandomValues(new Uint8Array(32)), list: "appointments.id" };
  assertEquals(kindOf(() => decodeCursor(first.next!, "at", otherList)), "malformed", "another list");
  assertEquals(kindOf(() => decodeCursor(first.next!, "at", otherKey)), "malformed", "another key");
});

Deno.test("permission resolution: one of the route's permissions to call it, `any` to reach every row", () => {
  const read: Access = {
    kind: "permission",
    permission: "appointments:read",
    any: "appointments:read:any",
    policy: "appointments:party",
  };
  const either: Access = {
    kind: "permission",
    permission: ["prescriptions:refill", "prescriptions:write"],
    policy: "prescriptions:care",
  };
  const own: Access = { kind: "signed-in", policy: "users:self", any: "users:read:any" };
  const all: Access = { kind: "permission", permission: "userroles:read", policy: "all" };
  const cases: [Access, Permission[], { allowed: boolean; unrestricted: boolean }][] = [
    [read, [], { allowed: false, unrestricted: false }],
    [read, ["appointments:read"], { allowed: true, unrestricted: false }],
    [read, ["appointments:read:any"], { allowed: true, unrestricted: true }],
    [either, ["prescriptions:write"], { allowed: true, unrestricted: false }],
    [either, ["prescriptions:read"], { allowed: false, unrestricted: false }],
    [own, [], { allowed: true, unrestricted: false }],
    [own, ["users:read:any"], { allowed: true, unrestricted: true }],
    [all, ["userroles:read"], { allowed: true, unrestricted: true }],
  ];
  for (const [access, held, expected] of cases) {
    assertEquals(resolveAccess(access as Exclude<Access, { kind: "public" }>, new Set(held)), expected, `${held}`);
  }
});

Deno.test("account changes: contact fields for oneself, username and status for administrators, passwords with the current one", () => {
  const current = { username: "alice", email: "alice@example.test", accountStatus: "active" };
  const self = { self: true, admin: false };
  const admin = { self: false, admin: true };
  const cases: [string, Parameters<typeof planAccountChange>[1], typeof self, string][] = [
    ["own phone", { phone: "+1 555" }, self, "ok"],
    ["own username", { username: "bob" }, self, "invalid"],
    ["own status", { account_status: "suspended" }, { self: true, admin: true }, "invalid"],
    ["own password without the current one", { password: "a new passphrase" }, self, "invalid"],
    ["own password with the current one", { password: "a new passphrase", current_password: "x" }, self, "ok"],
    ["the current password alone", { current_password: "x" }, self, "invalid"],
    ["an admin suspends someone", { account_status: "suspended" }, admin, "ok"],
    ["an admin resets someone's password", { password: "a new passphrase" }, admin, "ok"],
  ];
  for (const [name, change, caller, expected] of cases) {
    assertEquals(kindOf(() => planAccountChange(current, change, caller)), expected, name);
  }
  assertEquals(kindOf(() => planAccountChange(current, {}, { self: true, admin: true, deleting: true })), "conflict");
});

Deno.test("prescription changes: the patient asks for a refill, the prescribing doctor decides", () => {
  const row = { patientId: 1, doctorId: 2, status: "active", refillRequested: false };
  const patient = { userId: 1, permissions: new Set<Permission>(["prescriptions:refill"]) };
  const doctor = { userId: 2, permissions: new Set<Permission>(["prescriptions:write"]) };
  const colleague = { userId: 3, permissions: new Set<Permission>(["prescriptions:write"]) };
  const pending = { ...row, refillRequested: true };
  const cases: [string, typeof row, typeof patient, Record<string, unknown>, string][] = [
    ["the patient requests a refill", row, patient, { refill_requested: true }, "ok"],
    ["the patient may not change the dosage", row, patient, { dosage: "1 g" }, "invalid"],
    ["a second request while one is pending", pending, patient, { refill_requested: true }, "conflict"],
    ["the doctor approves a pending refill", pending, doctor, { approve_refill: true }, "ok"],
    ["the doctor approves with nothing pending", row, doctor, { approve_refill: true }, "conflict"],
    ["a denial needs a reason", pending, doctor, { deny_refill: true }, "invalid"],
    ["another doctor may not change it", row, colleague, { dosage: "1 g" }, "forbidden"],
    ["an empty change", row, doctor, {}, "invalid"],
  ];
  for (const [name, state, caller, body, expected] of cases) {
    assertEquals(kindOf(() => planPrescriptionChange(state, caller, body, NOW)), expected, name);
  }
  assertThrows(() => planPrescriptionChange(row, patient, { approve_refill: true }, NOW));
});
