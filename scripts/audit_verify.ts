import { parseArgs } from "node:util";
import { configOrExplain, databaseOrExplain } from "./_cli.ts";
import type { Database } from "../db/client.ts";
import { legacyBoundary } from "../db/audit_chain.ts";
import { sqlState } from "../db/errors.ts";
import type { AuditKeys } from "../services/audit_key.ts";
import { loadAuditKey } from "../services/audit_key.ts";
import { BadCheckpoint, verifyAuditChain } from "../services/audit_verify.ts";

const USAGE = "usage: deno task audit:verify [--checkpoint cp1.…]";

/**
 * The verdict on a database's audit trail: exit code 0 (intact), 1 (broken, or not reaching the
 * given checkpoint), 2 (the checkpoint is not one of ours), and the lines to print.
 */
export async function checkAuditTrail(
  db: Database,
  keys: AuditKeys,
  checkpoint?: string,
): Promise<{ code: 0 | 1 | 2; message: string }> {
  let report;
  try {
    report = await verifyAuditChain(db, keys, { checkpoint });
  } catch (e) {
    if (e instanceof BadCheckpoint) {
      return { code: 2, message: "the checkpoint is malformed or not signed with this key" };
    }
    throw e;
  }
  const tail = report.unsealed.count === 0
    ? ""
    : `; ${report.unsealed.count} not sealed yet (oldest id ${report.unsealed.oldestId}, ${report.unsealed.oldestAt})`;
  if (report.firstBadRow) {
    const bad = report.firstBadRow;
    return {
      code: 1,
      message: `audit trail broken at row id ${bad.id} (chain position ${bad.chain_seq ?? "missing"})`,
    };
  }
  if (report.against && !report.against.ok) {
    const what = report.against.problem === "truncated" ? "rows were cut off the end" : "the chain was rewritten";
    return { code: 1, message: `audit trail does not reach checkpoint ${report.against.chain_seq} unchanged: ${what}` };
  }
  const head = report.checkpoint ? `\ncheckpoint ${report.checkpoint.token}` : "";
  return { code: 0, message: `audit trail verified: ${report.sealed} rows${tail}${head}` };
}

/**
 * The command line: verifies the configured database with AUDIT_HMAC_KEY (or, in development, the
 * key in DATA_DIR); 0 intact, 1 broken, 2 cannot check. Never writes.
 */
export async function main(args: string[] = Deno.args): Promise<number> {
  let checkpoint: string | undefined;
  try {
    checkpoint = parseArgs({ args, options: { checkpoint: { type: "string" } } }).values.checkpoint;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const config = configOrExplain();
  // An embedded database this opens for the first time stays empty: no template, no schema, no trail.
  const handle = config && await databaseOrExplain(config, { noTemplate: true });
  if (!handle) return 2;
  try {
    await legacyBoundary(handle.db); // a database with no trail says so before a missing key does
    const keys = await loadAuditKey(config, { create: false });
    const { code, message } = await checkAuditTrail(handle.db, keys, checkpoint);
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
