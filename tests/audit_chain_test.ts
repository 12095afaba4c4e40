import { assert, assertEquals, assertRejects } from "@std/assert";
import { eq, isNull, sql } from "drizzle-orm";
import { auditLogs } from "../db/schema.ts";
import { type Database, queryRows } from "../db/client.ts";
import { checkAuditTrail } from "../scripts/audit_verify.ts";
import { importAuditKey } from "../services/audit_key.ts";
import { sealAuditTrail, startAuditSealer } from "../services/audit_sealer.ts";
import { verifyAuditChain } from "../services/audit_verify.ts";
import { createLogger } from "../services/logger.ts";
import { seedAudit } from "./_audit.ts";
import { databaseMigratedTo } from "./_db.ts";
import { appTest, DRIVER, type TestApp } from "./_fixtures.ts";

const ORIGIN = { ipAddress: "198.51.100.9", userAgent: "chain-test", requestId: "seeded" };
const TRIGGERS_OFF = "ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_or_delete;";
const TRIGGERS_ON = "ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_or_delete;";

function verify(api: TestApp, checkpoint?: string) {
  return verifyAuditChain(api.db, api.deps.auditKeys, { checkpoint });
}

async function unsealedCount(db: Database): Promise<number> {
  return (await db.select({ id: auditLogs.id }).from(auditLogs).where(isNull(auditLogs.chainSeq))).length;
}

appTest("the audit trail is sealed with an HMAC and verification names the first altered row", async (t, api) => {
  const alice = await api.makePatient();
  for (let i = 0; i < 4; i++) await api.signIn(alice);
  await api.seal();
  const clean = await verify(api);
  assertEquals([clean.ok, clean.rows, clean.sealed, clean.unsealed.count, clean.firstBadRow], [true, 4, 4, 0, null]);

  await t.step("one byte changed by the database owner, triggers disabled", async () => {
    await api.database.ownerQuery(`${TRIGGERS_OFF}
      UPDATE audit_logs SET ip_address = '192.0.2.2' WHERE chain_seq = 3; ${TRIGGERS_ON}`);
    const report = await verify(api);
    assertEquals([report.ok, report.firstBadRow?.chain_seq, report.checkpoint], [false, 3, null]);
  });
});

appTest("deleting a row from the middle of the audit trail breaks the chain at the next row", async (_t, api) => {
  const alice = await api.makePatient();
  for (let i = 0; i < 3; i++) await api.signIn(alice);
  await api.seal();
  await api.database.ownerQuery(`${TRIGGERS_OFF} DELETE FROM audit_logs WHERE chain_seq = 2; ${TRIGGERS_ON}`);
  const report = await verify(api);
  assertEquals([report.ok, report.firstBadRow?.chain_seq, report.rows], [false, 3, 2]);
});

appTest("a row rewritten and its chain re-sealed without the key does not verify", async (_t, api) => {
  const alice = await api.makePatient();
  for (let i = 0; i < 4; i++) await api.signIn(alice);
  await api.seal();
  // Everything a database owner can do: change a row, clear the chain from there and seal it again
  // with the same code, but a key of their own (the real one is not in the database).
  await api.database.ownerQuery(`${TRIGGERS_OFF}
    UPDATE audit_logs SET outcome = 'denied' WHERE chain_seq = 2;
    UPDATE audit_logs SET chain_seq = NULL, prev_hash = NULL, row_hash = NULL WHERE chain_seq >= 2; ${TRIGGERS_ON}`);
  const forger = await importAuditKey(crypto.getRandomValues(new Uint8Array(32)));
  assertEquals((await sealAuditTrail(api.db, forger)).sealed, 3);
  const report = await verify(api);
  assertEquals([report.ok, report.firstBadRow?.chain_seq], [false, 2]);
});

appTest("rows cut off the end are found against a checkpoint published in the log", async (t, api) => {
  const alice = await api.makePatient();
  for (let i = 0; i < 5; i++) await api.signIn(alice);
  const lines: string[] = [];
  const logger = createLogger("info", (line) => lines.push(line));
  await sealAuditTrail(api.db, api.deps.auditKeys, { logger });
  const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "audit checkpoint");
  assertEquals(logged.map((l) => l.chain_seq), [5]);
  const token = logged[0].checkpoint as string;
  assert(token.startsWith("cp1.5."), token);
  assertEquals((await verify(api, token)).against, { chain_seq: 5, ok: true, problem: null });

  await api.database.ownerQuery(`${TRIGGERS_OFF} DELETE FROM audit_logs WHERE chain_seq >= 4; ${TRIGGERS_ON}`);
  await t.step("without a checkpoint the shorter chain is consistent", async () => {
    const report = await verify(api);
    assertEquals([report.ok, report.sealed], [true, 3]);
  });
  await t.step("against the checkpoint it is not", async () => {
    const report = await verify(api, token);
    assertEquals([report.ok, report.against], [false, { chain_seq: 5, ok: false, problem: "truncated" }]);
    assertEquals(await checkAuditTrail(api.db, api.deps.auditKeys, token), {
      code: 1,
      message: "audit trail does not reach checkpoint 5 unchanged: rows were cut off the end",
    });
  });
  await t.step("GET /auditlogs/verify/?checkpoint= says the same; a forged checkpoint is 400", async () => {
    const admin = await api.makeAdmin();
    const { access } = await api.signIn(admin);
    const res = await api.request("GET", `/auditlogs/verify/?checkpoint=${encodeURIComponent(token)}`, {
      token: access,
    });
    assertEquals([res.status, res.body.ok, res.body.against_checkpoint], [200, false, {
      chain_seq: 5,
      ok: false,
      problem: "truncated",
    }]);
    const forged = token.replace("cp1.5.", "cp1.3.");
    const bad = await api.request("GET", `/auditlogs/verify/?checkpoint=${encodeURIComponent(forged)}`, {
      token: access,
    });
    assertEquals([bad.status, bad.body.type], [400, "urn:problem-type:patient-portal:invalid-checkpoint"]);
  });
});

appTest("the trigger lets the chain columns be set once, from NULL, and nothing else", async (_t, api) => {
  const row = await seedAudit(api.db, ORIGIN, { action: "login", outcome: "success" });
  assertEquals([row.chainSeq, row.prevHash, row.rowHash], [null, null, null]);
  const hash = "a".repeat(64);
  const refused = [
    `UPDATE audit_logs SET outcome = 'denied' WHERE id = ${row.id}`,
    `UPDATE audit_logs SET chain_seq = 1, prev_hash = '${hash}', row_hash = '${hash}', outcome = 'denied' WHERE id = ${row.id}`,
    `UPDATE audit_logs SET chain_seq = 1, prev_hash = '${hash}' WHERE id = ${row.id}`,
    `DELETE FROM audit_logs WHERE id = ${row.id}`,
    "TRUNCATE audit_logs",
    "UPDATE audit_chain_legacy SET last_seq = 99",
    "DELETE FROM audit_chain_legacy",
  ];
  for (const statement of refused) await assertRejects(() => api.database.ownerQuery(statement), "append-only");
  await api.database.ownerQuery(
    `UPDATE audit_logs SET chain_seq = 1, prev_hash = '${hash}', row_hash = '${hash}' WHERE id = ${row.id}`,
  );
  await assertRejects(
    () => api.database.ownerQuery(`UPDATE audit_logs SET row_hash = '${"b".repeat(64)}' WHERE id = ${row.id}`),
    "append-only",
  );
  const [stored] = await api.db.select().from(auditLogs).where(eq(auditLogs.id, row.id));
  assertEquals([stored.chainSeq, stored.rowHash, stored.outcome], [1, hash, "success"]);
});

appTest(
  "requests insert their record unsealed; the background sealer seals them in order within a second",
  async (_t, api) => {
    const alice = await api.makePatient();
    const { access } = await api.signIn(alice);
    assertEquals(await unsealedCount(api.db), 1, "the sign-in's record waits for the sealer");
    const sealer = startAuditSealer(api.deps, 100);
    try {
      const started = performance.now();
      await Promise.all([1, 2, 3, 4, 5].map(() => api.request("GET", `/patients/${alice.id}/`, { token: access })));
      while (await unsealedCount(api.db) > 0) {
        assert(performance.now() - started < 1000, "sealed within a second");
        await new Promise((r) => setTimeout(r, 20));
      }
      const sealedAfter = performance.now() - started;
      console.log(`6 records sealed ${sealedAfter.toFixed(0)} ms after the first request`);
    } finally {
      await sealer.stop();
    }
    const rows = await api.db.select().from(auditLogs).orderBy(auditLogs.chainSeq);
    assertEquals(rows.map((r) => r.chainSeq), [1, 2, 3, 4, 5, 6]);
    assertEquals(rows.map((r) => r.id), [...rows.map((r) => r.id)].sort((a, b) => a - b), "sealed in id order");
    const report = await verify(api);
    assertEquals([report.ok, report.sealed, report.unsealed.count], [true, 6, 0]);
  },
);

appTest("sealers racing on several instances leave one unbroken chain", async (_t, api) => {
  const alice = await api.makePatient();
  for (let i = 0; i < 30; i++) {
    await seedAudit(api.db, ORIGIN, { action: "read", outcome: "success", userId: alice.id });
  }
  const runs = await Promise.all(
    [1, 2, 3, 4].map(() => sealAuditTrail(api.db, api.deps.auditKeys, { batchSize: 7 })),
  );
  // Whoever holds the lock seals; the others find it taken (Postgres) or nothing left (PGlite).
  assertEquals(runs.reduce((n, r) => n + r.sealed, 0), 30);
  for (let i = 0; i < 5; i++) await seedAudit(api.db, ORIGIN, { action: "read", outcome: "success" });
  await api.seal();
  const report = await verify(api);
  assertEquals([report.ok, report.sealed, report.unsealed.count], [true, 35, 0]);
});

appTest("an unsealed tail is reported apart from the verified chain, never as a break", async (_t, api) => {
  for (let i = 0; i < 3; i++) await seedAudit(api.db, ORIGIN, { action: "login", outcome: "success" });
  await api.seal();
  for (let i = 0; i < 2; i++) await seedAudit(api.db, ORIGIN, { action: "logout", outcome: "success" });
  const report = await verify(api);
  assertEquals([report.ok, report.rows, report.sealed, report.unsealed.count], [true, 5, 3, 2]);
  assertEquals(report.checkpoint?.chain_seq, 3);
  const { message } = await checkAuditTrail(api.db, api.deps.auditKeys);
  assert(message.startsWith("audit trail verified: 3 rows; 2 not sealed yet"), message);
});

appTest("verification reads the chain in pages of bounded size", async (_t, api) => {
  for (let i = 0; i < 25; i++) await seedAudit(api.db, ORIGIN, { action: "read", outcome: "success" });
  await api.seal();
  api.database.queries.length = 0;
  const report = await verifyAuditChain(api.db, api.deps.auditKeys, { pageSize: 10 });
  assertEquals([report.ok, report.sealed], [true, 25]);
  const pages = api.database.queries.filter((q) => /from audit_logs a where a.chain_seq > \$1/.test(q));
  assertEquals(pages.length, 3, "3 pages of at most 10 rows");
  assert(api.database.queries.every((q) => /limit \$\d+|count\(\*\)|audit_chain_legacy/.test(q)), "no unbounded read");
});

Deno.test(`rows chained before the keyed sealer keep verifying by their old digest [${DRIVER}]`, async (t) => {
  const database = await databaseMigratedTo("0008_audit_appended_events");
  try {
    // Written as the code of then did (the table has no client_request_id yet); the old trigger chains them.
    for (let i = 0; i < 3; i++) {
      await database.ownerQuery(`INSERT INTO audit_logs (action, outcome, ip_address, user_agent, request_id, details)
        VALUES ('login', 'success', '198.51.100.9', 'chain-test', 'seeded', '{"n": ${i}, "note": "caf\u00e9"}')`);
    }
    const [legacy] = await queryRows<{ row_hash: string | null }>(
      database.db,
      sql`select row_hash from audit_logs where chain_seq = 3`,
    );
    assert(legacy.row_hash, "the old trigger chained the rows");
    await database.migrate();
    const keys = await importAuditKey(crypto.getRandomValues(new Uint8Array(32)));
    for (let i = 0; i < 2; i++) await seedAudit(database.db, ORIGIN, { action: "logout", outcome: "success" });
    assertEquals((await sealAuditTrail(database.db, keys)).sealed, 2);
    const report = await verifyAuditChain(database.db, keys);
    assertEquals([report.ok, report.sealed, report.legacyRows], [true, 5, 3]);

    await t.step("a legacy row rewritten and the old chain recomputed breaks at the first keyed row", async () => {
      await database.ownerQuery(`${TRIGGERS_OFF}
        UPDATE audit_logs SET outcome = 'denied' WHERE chain_seq = 2;
        UPDATE audit_logs a SET row_hash = encode(sha256(convert_to(concat_ws(E'\\x1f', a.chain_seq::text,
          a.prev_hash, a.id::text, '\\N', '\\N', a.action, '\\N', '\\N', '\\N', a.patient_ids::text, a.ip_address,
          a.user_agent, a.request_id, a.outcome,
          to_char(a.event_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), a.details::text), 'UTF8')), 'hex')
        WHERE chain_seq = 2;
        UPDATE audit_logs SET prev_hash = (SELECT row_hash FROM audit_logs WHERE chain_seq = 2) WHERE chain_seq = 3;
        UPDATE audit_logs a SET row_hash = encode(sha256(convert_to(concat_ws(E'\\x1f', a.chain_seq::text,
          a.prev_hash, a.id::text, '\\N', '\\N', a.action, '\\N', '\\N', '\\N', a.patient_ids::text, a.ip_address,
          a.user_agent, a.request_id, a.outcome,
          to_char(a.event_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), a.details::text), 'UTF8')), 'hex')
        WHERE chain_seq = 3; ${TRIGGERS_ON}`);
      const broken = await verifyAuditChain(database.db, keys);
      assertEquals([broken.ok, broken.firstBadRow?.chain_seq], [false, 4]);
    });
  } finally {
    await database.dispose();
  }
});

appTest(
  "the request path inserts its record with no trigger and no lock: only the append-only ones remain",
  async (_t, api) => {
    const triggers = await queryRows<{ name: string }>(
      api.db,
      sql`select tgname as name from pg_trigger where tgrelid = 'audit_logs'::regclass and not tgisinternal order by 1`,
    );
    assertEquals(triggers.map((t) => t.name), ["audit_logs_no_truncate", "audit_logs_no_update_or_delete"]);
  },
);
