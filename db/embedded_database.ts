/**
 * The embedded database: PGlite in memory, or persisted under a data directory that one process
 * holds at a time, started from the migrated template when the directory is new. Loaded only when
 * the configuration names it, so an instance on a server Postgres never loads PGlite.
 */
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { createAvailability, SILENT } from "./availability.ts";
import { type Database, type DatabaseHandle, type DatabaseOptions, MIGRATIONS_FOLDER } from "./database.ts";
import { PGLITE_OPTIONS } from "./pglite_options.ts";
import { startFromTemplate, templateRoot } from "./pglite_template.ts";
import * as schema from "./schema.ts";
import { seedBuiltinRoles } from "./seed.ts";

/** `memory://`, or PGlite persisted in `<dataDir>/pglite`. */
export async function openEmbedded(options: DatabaseOptions): Promise<DatabaseHandle> {
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
