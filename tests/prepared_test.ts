/**
 * A statement prepared once (`preparedFor`) is run inside a transaction through that transaction's
 * connection: it commits and rolls back with it, and a statement first built in one database never
 * writes to another. The statements used are the audit insert (it returns its row) and the outbox
 * insert, whose trigger also signals the relay on commit and only then.
 */
import { assertEquals } from "@std/assert";
import { count } from "drizzle-orm";
import { insertAuditRecord } from "../db/audit_logs.ts";
import { insertOutboxEvent } from "../db/outbox.ts";
import { auditLogs, outbox } from "../db/schema.ts";
import { DRIVER, freshDatabase } from "./_db.ts";

const at = new Date(Date.UTC(2031, 0, 1));
const event = (topic: string) => ({ topic, payload: { n: 1 } });

Deno.test("a prepared statement run in a transaction commits and rolls back with it", async () => {
  const [first, second] = [await freshDatabase(), await freshDatabase()];
  try {
    const topics = async (db = first.db) => (await db.select().from(outbox).orderBy(outbox.id)).map((r) => r.topic);
    await insertOutboxEvent(first.db, event("outside"), at);
    await first.db.transaction((tx) => insertOutboxEvent(tx, event("committed"), at));
    const failure = new Error("roll back");
    const rolledBack = await first.db.transaction(async (tx) => {
      await insertOutboxEvent(tx, event("rolled-back"), at);
      throw failure;
    }).catch((e) => e);
    assertEquals(rolledBack, failure);
    if (DRIVER !== "pglite") {
      // Not yet committed, so not seen by another connection (PGlite has one: nothing to compare).
      await first.db.transaction(async (tx) => {
        await insertOutboxEvent(tx, event("pending"), at);
        assertEquals(await topics(), ["outside", "committed"]);
        assertEquals(await topics(tx as typeof first.db), ["outside", "committed", "pending"]);
      });
    }
    await second.db.transaction((tx) => insertOutboxEvent(tx, event("elsewhere"), at));
    const expected = DRIVER === "pglite" ? ["outside", "committed"] : ["outside", "committed", "pending"];
    assertEquals(await topics(), expected);
    assertEquals(await topics(second.db), ["elsewhere"]);
    const [{ n }] = await first.db.select({ n: count() }).from(outbox);
    assertEquals(n, expected.length);
  } finally {
    await first.dispose();
    await second.dispose();
  }
});

Deno.test("a prepared statement that returns its row answers the same outside and inside transactions", async () => {
  const db = await freshDatabase();
  const origin = { ipAddress: null, userAgent: null, requestId: null };
  const record = (targetId: string) => ({
    userId: null,
    role: null,
    action: "read",
    outcome: "success" as const,
    targetTable: "patient_profiles",
    targetId,
    patientIds: [],
    details: {},
    at,
  });
  try {
    const ids = [(await insertAuditRecord(db.db, origin, record("1"))).targetId];
    for (const n of ["2", "3"]) {
      ids.push(await db.db.transaction(async (tx) => (await insertAuditRecord(tx, origin, record(n))).targetId));
    }
    ids.push((await insertAuditRecord(db.db, origin, record("4"))).targetId);
    assertEquals(ids, ["1", "2", "3", "4"]);
    const stored = await db.db.select({ id: auditLogs.targetId }).from(auditLogs).orderBy(auditLogs.id);
    assertEquals(stored.map((r) => r.id), ids);
  } finally {
    await db.dispose();
  }
});

Deno.test("an event written wakes the relay's channel when its transaction commits, not when it rolls back", async () => {
  const db = await freshDatabase();
  const heard: string[] = [];
  const stop = await db.listen("outbox", (payload) => heard.push(payload));
  const quiet = () => new Promise((r) => setTimeout(r, 300));
  try {
    await db.db.transaction(async (tx) => {
      await insertOutboxEvent(tx, event("a"), at);
      await insertOutboxEvent(tx, event("b"), at);
      throw new Error("roll back");
    }).catch(() => {});
    await quiet();
    assertEquals(heard.length, 0, "a rolled-back event signals nothing");
    await db.db.transaction(async (tx) => {
      await insertOutboxEvent(tx, event("a"), at);
      await insertOutboxEvent(tx, event("b"), at);
    });
    for (let i = 0; i < 50 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await quiet();
    assertEquals(heard, [""], "one signal for the transaction's two events");
  } finally {
    await stop();
    await db.dispose();
  }
});
