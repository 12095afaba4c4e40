import { PGlite } from "@electric-sql/pglite";
import { btree_gist } from "@electric-sql/pglite/contrib/btree_gist";
import { fileURLToPath } from "node:url";
import type { SQL } from "drizzle-orm";
import { migrate as migrateNeon } from "drizzle-orm/neon-serverless/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { Config } from "../config.ts";
import type { Database } from "./database.ts";
import {
  type AvailabilityLog,
  createAvailability,
  type DatabaseAvailability,
  describeConnectionError,
} from "./availability.ts";
import { configureNeonForProxy, openNeonPool } from "./neon.ts";
import { neonListener } from "./neon_listener.ts";
import { DatabaseSetupError, type ProbeResult, probeServerDatabase } from "./provision.ts";
import * as schema from "./schema.ts";
import { seedBuiltinRoles } from "./seed.ts";

export type { Database };

export interface DatabaseHandle {
  db: Database;
  driver: "pglite" | "neon";
  /** Whether the database answers, as this process last saw it. */
  availability: DatabaseAvailability;
  /**
   * Calls `onPayload` with each NOTIFY on `channel` (from any instance); returns the way to stop.
   * `onReconnect` (set once) hears when the listening connection was replaced and events may have been missed.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  onReconnect(handler: () => void): void;
  /** Applies every committed migration that has not run yet, then seeds the built-in roles. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Unset: PGlite persisted under `dataDir`; `memory://`: in-memory PGlite; `postgres://…`: Neon driver. */
  url?: string;
  dataDir: string;
  /** host:port of a WebSocket-to-TCP proxy in front of a plain Postgres (local and CI runs). */
  wsProxy?: string;
  /** Called with every SQL statement the app sends (tests count queries with it). */
  onQuery?: (sql: string) => void;
  /** Bounds on reaching a server database: connecting (and waiting for a pooled connection), and one statement. */
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  poolMax?: number;
  /** Where outages are reported (once when the database goes away, once when it is back). */
  log?: AvailabilityLog;
}

export { configureNeonForProxy, DatabaseSetupError };

const SILENT: AvailabilityLog = { warn() {}, info() {} };

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

/**
 * Opens the database a configuration names (the server, tasks and scripts all go through here).
 * A server database is probed first: missing is one line (or created with DB_CREATE=1); not
 * answering is reported as an outage, or is one line too when `mustAnswer` (tasks).
 */
export async function openConfiguredDatabase(
  config: Pick<
    Config,
    | "DATABASE_URL"
    | "DATA_DIR"
    | "NEON_WS_PROXY"
    | "DB_CONNECT_TIMEOUT_MS"
    | "DB_QUERY_TIMEOUT_MS"
    | "DB_POOL_MAX"
    | "DB_CREATE"
  >,
  log?: AvailabilityLog,
  options: { mustAnswer?: boolean } = {},
): Promise<DatabaseHandle> {
  const url = config.DATABASE_URL;
  let probe: ProbeResult | undefined;
  if (url && url !== "memory://") {
    if (config.NEON_WS_PROXY) configureNeonForProxy(config.NEON_WS_PROXY);
    probe = await probeServerDatabase(url, {
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
    dataDir: config.DATA_DIR,
    wsProxy: config.NEON_WS_PROXY,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
    poolMax: config.DB_POOL_MAX,
    log,
  });
  if (probe?.state === "unreachable") handle.availability.lost(probe.error);
  return handle;
}

/** The one place that picks the database driver. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url && options.url !== "memory://") return openNeon(options.url, options);
  if (options.url === "memory://") {
    return wrapPglite(await PGlite.create({ extensions: PGLITE_EXTENSIONS }), options.onQuery);
  }
  const dataDir = `${options.dataDir}/pglite`;
  await Deno.mkdir(dataDir, { recursive: true });
  const unlock = await lockDataDir(dataDir);
  try {
    const handle = wrapPglite(await PGlite.create(dataDir, { extensions: PGLITE_EXTENSIONS }), options.onQuery);
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

/** PGlite options every instance needs (the migrations create btree_gist). */
export const PGLITE_EXTENSIONS = { btree_gist };

function queryLogger(onQuery?: (sql: string) => void) {
  return onQuery ? { logQuery: (query: string) => onQuery(query) } : undefined;
}

function openNeon(url: string, options: DatabaseOptions): DatabaseHandle {
  const availability = createAvailability(options.log ?? SILENT);
  const { pool, db } = openNeonPool({
    url,
    wsProxy: options.wsProxy,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    queryTimeoutMs: options.queryTimeoutMs ?? 5000,
    poolMax: options.poolMax ?? 10,
    availability,
    logQuery: options.onQuery,
  });
  const reconnected = new Set<() => void>();
  const listener = neonListener(url, availability, () => reconnected.forEach((handler) => handler()));
  return {
    db: db as unknown as Database,
    driver: "neon",
    availability,
    listen: listener.listen,
    onReconnect: (handler) => reconnected.add(handler),
    migrate: async () => {
      await migrateNeon(db, { migrationsFolder: MIGRATIONS_FOLDER });
      await seedBuiltinRoles(db as unknown as Database);
    },
    close: async () => {
      await listener.close();
      await pool.end();
    },
  };
}

/** Runs raw SQL and returns its rows; the drivers agree on `rows` but the shared type does not say so. */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = await db.execute(query) as unknown as { rows: T[] };
  return result.rows;
}

/** Number of migrations committed in the journal, to compare with what the database has applied. */
export async function committedMigrationCount(): Promise<number> {
  const journal = JSON.parse(await Deno.readTextFile(`${MIGRATIONS_FOLDER}/meta/_journal.json`));
  return journal.entries.length;
}
