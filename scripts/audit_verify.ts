import { configOrExplain, databaseOrExplain } from "./_cli.ts";
import type { Database } from "../db/client.ts";
import { sqlState } from "../db/errors.ts";
import { verifyAuditChain } from "../services/audit_verify.ts";

/** The verdict on a database's audit trail: exit code 0 (intact) or 1 (broken) and the line to print. */
export async function checkAuditTrail(db: Database): Promise<{ code: 0 | 1; message: string }> {
  const report = await verifyAuditChain(db);
  if (report.ok) return { code: 0, message: `audit trail verified: ${report.rows} rows` };
  const bad = report.firstBadRow!;
  return {
    code: 1,
    message: `audit trail broken at row id ${bad.id} (chain position ${bad.chain_seq ?? "missing"})`,
  };
}

/** The command line: verifies the configured database; 0 intact, 1 broken, 2 cannot check. Never writes. */
export async function main(): Promise<number> {
  const config = configOrExplain();
  const handle = config && await databaseOrExplain(config);
  if (!handle) return 2;
  try {
    const { code, message } = await checkAuditTrail(handle.db);
    (code === 0 ? console.log : console.error)(message);
    return code;
  } catch (e) {
    if (sqlState(e) === "42P01" || sqlState(e) === "42883") {
      console.error("the database has no audit trail yet; run `deno task migrate` first");
    } else {
      const error = e as Error;
      console.error(error.cause instanceof Error ? error.cause.message : error.message);
    }
    return 2;
  } finally {
    await handle.close();
  }
}

if (import.meta.main) Deno.exit(await main());
