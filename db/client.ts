import type { SQL } from "drizzle-orm";
import type { Config } from "../config.ts";
import {
  type Database,
  type DatabaseHandle,
  type DatabaseOptions,
  DatabaseSetupError,
  driverFor,
  type DriverName,
  MIGRATIONS_FOLDER,
} from "./database.ts";
import { type AvailabilityLog, describeConnectionError } from "./availability.ts";
import type { ProbeResult } from "./provision.ts";

export type { Database, DatabaseHandle, DatabaseOptions, DriverName };
export { DatabaseSetupError, driverFor, MIGRATIONS_FOLDER };

/**
 * Opens the database a configuration names (the server, tasks and scripts all go through here).
 * A server database is probed first: missing is one line (or created with DB_CREATE=1); not
 * answering is reported as an outage, or is one line too when `mustAnswer` (tasks). A new embedded
 * database starts from the template unless `noTemplate` (a task that only reads, and would otherwise
 * find a migrated schema where there was no database).
 */
export async function openConfiguredDatabase(
  config: Pick<
    Config,
    | "DATABASE_URL"
    | "DATABASE_DRIVER"
    | "DATA_DIR"
    | "NEON_WS_PROXY"
    | "DB_CONNECT_TIMEOUT_MS"
    | "DB_QUERY_TIMEOUT_MS"
    | "DB_POOL_MAX"
    | "DB_CREATE"
    | "PGLITE_TEMPLATE_DIR"
  >,
  log?: AvailabilityLog,
  options: { mustAnswer?: boolean; noTemplate?: boolean } = {},
): Promise<DatabaseHandle> {
  const url = config.DATABASE_URL;
  let probe: ProbeResult | undefined;
  const driver = url && url !== "memory://" ? driverFor(url, config.DATABASE_DRIVER) : undefined;
  if (url && driver) {
    if (config.NEON_WS_PROXY) (await import("./neon.ts")).configureNeonForProxy(config.NEON_WS_PROXY);
    const { probeServerDatabase } = await import("./provision.ts");
    probe = await probeServerDatabase(url, {
      driver,
      create: config.DB_CREATE,
      connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    });
    if (probe.state === "unreachable" && options.mustAnswer) {
      throw new DatabaseSetupError(
        `The database at ${new URL(url).host} does not answer: ${describeConnectionError(probe.error)}`,
      );
    }
    if (probe.state === "created") log?.info("database created", { database: new URL(url).pathname.slice(1) });
  }
  const handle = await openDatabase({
    url,
    driver,
    dataDir: config.DATA_DIR,
    wsProxy: config.NEON_WS_PROXY,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
    poolMax: config.DB_POOL_MAX,
    pgliteTemplates: driver || options.noTemplate
      ? false
      : (await import("./pglite_template.ts")).templateRoot(config.PGLITE_TEMPLATE_DIR) ?? false,
    log,
  });
  if (probe?.state === "unreachable") handle.availability.lost(probe.error);
  return handle;
}

/** The one place that picks the database driver; only the chosen driver's modules are loaded. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url && options.url !== "memory://") {
    const driver = options.driver ?? driverFor(options.url, Deno.env.get("DATABASE_DRIVER"));
    const server = await import("./server_database.ts");
    return driver === "neon" ? server.openNeon(options.url, options) : server.openPostgres(options.url, options);
  }
  return (await import("./embedded_database.ts")).openEmbedded(options);
}

/** Runs raw SQL and returns its rows; the drivers agree on `rows` but the shared type does not say so. */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  // postgres.js answers with the rows themselves; pg-compatible drivers with `{ rows }`.
  const result = await db.execute(query) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

/** Number of migrations committed in the journal, to compare with what the database has applied. */
export async function committedMigrationCount(): Promise<number> {
  const journal = JSON.parse(await Deno.readTextFile(`${MIGRATIONS_FOLDER}/meta/_journal.json`));
  return journal.entries.length;
}
