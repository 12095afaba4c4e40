import { assertEquals } from "@std/assert";
import { verifyAuditChain } from "../services/audit_verify.ts";
import { appTest } from "./_fixtures.ts";

appTest("the audit trail is hash-chained and verification names the first altered row", async (t, api) => {
  const alice = await api.makePatient();
  for (let i = 0; i < 4; i++) await api.signIn(alice);
  const clean = await verifyAuditChain(api.db);
  assertEquals([clean.ok, clean.rows, clean.firstBadRow], [true, 4, null]);

  await t.step("one byte changed by the database owner, triggers disabled", async () => {
    await api.database.ownerQuery(`
      ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_or_delete;
      UPDATE audit_logs SET ip_address = '192.0.2.2' WHERE chain_seq = 3;
      ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_or_delete;`);
    const report = await verifyAuditChain(api.db);
    assertEquals([report.ok, report.firstBadRow?.chain_seq], [false, 3]);
  });
});

appTest("deleting a row from the middle of the audit trail breaks the chain at the next row", async (_t, api) => {
  const alice = await api.makePatient();
  for (let i = 0; i < 3; i++) await api.signIn(alice);
  await api.database.ownerQuery(`
    ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_or_delete;
    DELETE FROM audit_logs WHERE chain_seq = 2;
    ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_or_delete;`);
  const report = await verifyAuditChain(api.db);
  assertEquals([report.ok, report.firstBadRow?.chain_seq], [false, 3]);
});
