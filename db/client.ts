import { PGlite } from "@electric-sql/pglite";
import { btree_gist } from "@electric-sql/pglite/contrib/btree_gist";
import { fileURLToPath } from "node:url";
import type { SQL } from "drizzle-orm";
import { migrate as migrateNeon } from "drizzle-orm/neon-serverless/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { Config } from "../config.ts";
import type { Database } from "./database.ts";
import { type AvailabilityLog, createAvailability, type DatabaseAvailability } from "./availability.ts";
import { configureNeonForProxy, openNeonPool } from "./neon.ts";
import { neonListener } from "./neon_listener.ts";
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

export { configureNeonForProxy };

const SILENT: AvailabilityLog = { warn() {}, info() {} };

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

/** Opens the database a configuration names (the server, tasks and scripts all go through here). */
export function openConfiguredDatabase(
  config: Pick<
    Config,
    "DATABASE_URL" | "DATA_DIR" | "NEON_WS_PROXY" | "DB_CONNECT_TIMEOUT_MS" | "DB_QUERY_TIMEOUT_MS" | "DB_POOL_MAX"
  >,
  log?: AvailabilityLog,
): Promise<DatabaseHandle> {
  return openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    wsProxy: config.NEON_WS_PROXY,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
    poolMax: config.DB_POOL_MAX,
    log,
  });
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
 * first one's writes and could corrupt it. A pid file refuses that with a clear message.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await Deno.writeTextFile(path, String(Deno.pid), { createNew: true });
      return () => Deno.remove(path).catch(() => {});
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const holder = Number(await Deno.readTextFile(path).catch(() => ""));
      if (holder && holder !== Deno.pid && await processExists(holder)) {
        throw new Error(
          `The embedded database in ${dataDir} is in use by process ${holder}; stop it first (PGlite allows one process)`,
        );
      }
      await Deno.remove(path).catch(() => {});
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}

async function processExists(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

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
