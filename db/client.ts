import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { Config } from "../config.ts";
import { type Database, type DatabaseHandle, type DatabaseOptions, driverFor, type DriverName } from "./database.ts";
import { type AvailabilityLog, createAvailability, describeConnectionError } from "./availability.ts";
import { configureNeonForProxy } from "./neon.ts";
import { PGLITE_OPTIONS } from "./pglite_options.ts";
import { startFromTemplate, templateRoot } from "./pglite_template.ts";
import { DatabaseSetupError, type ProbeResult, probeServerDatabase } from "./provision.ts";
import * as schema from "./schema.ts";
import { seedBuiltinRoles } from "./seed.ts";
import { MIGRATIONS_FOLDER, openNeon, openPostgres } from "./server_database.ts";

export type { Database, DatabaseHandle, DatabaseOptions, DriverName };
export { driverFor, MIGRATIONS_FOLDER, PGLITE_OPTIONS };

export { configureNeonForProxy, DatabaseSetupError };

const SILENT: AvailabilityLog = { warn() {}, info() {} };

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
    if (config.NEON_WS_PROXY) configureNeonForProxy(config.NEON_WS_PROXY);
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
    pgliteTemplates: options.noTemplate ? false : templateRoot(config.PGLITE_TEMPLATE_DIR) ?? false,
    log,
  });
  if (probe?.state === "unreachable") handle.availability.lost(probe.error);
  return handle;
}

/** The one place that picks the database driver. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url && options.url !== "memory://") {
    const driver = options.driver ?? driverFor(options.url, Deno.env.get("DATABASE_DRIVER"));
    return driver === "neon" ? openNeon(options.url, options) : openPostgres(options.url, options);
  }
  if (options.url === "memory://") {
    return wrapPglite(await PGlite.create(PGLITE_OPTIONS), options.onQuery);
  }
  const dataDir = `${options.dataDir}/pglite`;
  await Deno.mkdir(options.dataDir, { recursive: true });
  const unlock = await lockDataDir(dataDir);
  try {
    const root = options.pgliteTemplates ?? templateRoot();
    // An optimisation only: without a usable template the first start runs initdb, as PGlite does.
    if (root) {
      await startFromTemplate(dataDir, root).catch((e) =>
        options.log?.warn("embedded database: template not used", { root, error: String(e?.message ?? e) })
      );
    }
    await Deno.mkdir(dataDir, { recursive: true });
    const handle = wrapPglite(await PGlite.create(dataDir, PGLITE_OPTIONS), options.onQuery);
    return { ...handle, close: () => handle.close().finally(unlock) };
  } catch (e) {
    await unlock();
    throw e;
  }
}

/**
 * PGlite is one process's database: a second process on the same directory would not see the
 * first one's writes and could corrupt it. An exclusive OS lock (flock) on `<dataDir>.lock`, held
 * by an open file for the life of the process, refuses that: the kernel releases it when the
 * process ends however it ends, so there is no stale lock and no liveness check to get wrong (the
 * old pid file stat'ed `/proc/<pid>`, which `deno task start`'s permissions do not allow). The
 * file stays in place (removing it would let two processes lock two different files); it holds
 * the holder's pid for people only.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = `${dataDir}.lock`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } finally {
    if (!locked) file.close();
  }
  if (!locked) {
    const holder = (await Deno.readTextFile(path).catch(() => "")).trim();
    throw new DataDirInUse(
      `The embedded database in ${dataDir} is in use by another process${
        /^\d+$/.test(holder) ? ` (pid ${holder})` : ""
      }; stop it first or give this one another DATA_DIR (PGlite allows one process)`,
    );
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return async () => {
    try {
      await file.unlock();
    } finally {
      file.close();
    }
  };
}

/** Another process holds the embedded database. */
export class DataDirInUse extends Error {}

/** Wraps an existing PGlite (tests pass a clone of a migrated template). */
export function wrapPglite(client: PGlite, onQuery?: (sql: string) => void): DatabaseHandle {
  const db = drizzlePglite({ client, schema, logger: queryLogger(onQuery) });
  return {
    db: db as unknown as Database,
    driver: "pglite",
    // In-process: nothing to lose a connection to.
    availability: createAvailability(SILENT),
    listen: (channel, onPayload) => client.listen(channel, onPayload).then((stop) => () => stop()),
    onReconnect: () => {},
    migrate: async () => {
      await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
      await seedBuiltinRoles(db as unknown as Database);
    },
    close: () => client.close(),
  };
}

function queryLogger(onQuery?: (sql: string) => void) {
  return onQuery ? { logQuery: (query: string) => onQuery(query) } : undefined;
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
