/**
 * A fresh, migrated database per test. PGlite in-process by default (a clone of a migrated
 * template); with TEST_DATABASE_URL=postgres://… the same suite runs on a real Postgres, each test
 * in its own database copied from a migrated template database: through postgres.js over TCP, or
 * with DATABASE_DRIVER=neon through the Neon driver and an in-process WebSocket proxy.
 */
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { migrate as migrateNeon } from "drizzle-orm/neon-serverless/migrator";
import type { NeonDatabase } from "drizzle-orm/neon-serverless";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import { type DatabaseHandle, type DatabaseOptions, MIGRATIONS_FOLDER, openDatabase } from "../db/client.ts";
import { wrapPglite } from "../db/embedded_database.ts";
import { configureNeonForProxy } from "../db/neon.ts";
import { PGLITE_OPTIONS } from "../db/pglite_options.ts";
import { startWsProxy } from "../scripts/ws_tcp_proxy.ts";

export const TEST_DATABASE_URL = Deno.env.get("TEST_DATABASE_URL");
export const DRIVER: "pglite" | "neon" | "postgres" = TEST_DATABASE_URL
  ? (Deno.env.get("DATABASE_DRIVER") === "neon" ? "neon" : "postgres")
  : "pglite";

export interface TestDatabase extends DatabaseHandle {
  /** Runs SQL as the database owner, outside the app (e.g. to prove a trigger holds). */
  ownerQuery(sql: string): Promise<unknown>;
  /** Every statement the app sent through this handle, in order (for N+1 checks). */
  queries: string[];
  dispose(): Promise<void>;
}

/** Bounds for a server database, as the app's config gives them (PGlite has none). */
export type ServerBounds = Pick<DatabaseOptions, "connectTimeoutMs" | "queryTimeoutMs">;

export function freshDatabase(bounds: ServerBounds = {}): Promise<TestDatabase> {
  return TEST_DATABASE_URL ? freshPostgres(TEST_DATABASE_URL, bounds) : freshPglite();
}

let pgliteTemplate: Promise<Blob> | undefined;

async function freshPglite(): Promise<TestDatabase> {
  // One migrated database, dumped once; each test loads the dump. (PGlite's own clone() would
  // dump again every time and drop PGLITE_OPTIONS' start parameters.)
  pgliteTemplate ??= (async () => {
    const template = await PGlite.create(PGLITE_OPTIONS);
    await wrapPglite(template).migrate();
    const dump = await template.dumpDataDir("none");
    await template.close();
    return dump;
  })();
  const client = await PGlite.create({ ...PGLITE_OPTIONS, loadDataDir: await pgliteTemplate });
  const queries: string[] = [];
  const handle = wrapPglite(client, (sql) => queries.push(sql));
  return { ...handle, queries, ownerQuery: (sql) => client.exec(sql), dispose: () => client.close() };
}

/**
 * A fresh database migrated only up to (and including) the migration `tag`, for tests of what a
 * later migration does to data written before it; `handle.migrate()` then applies the rest.
 */
export async function databaseMigratedTo(tag: string): Promise<TestDatabase> {
  const folder = await Deno.makeTempDir({ prefix: "portal-migrations-" });
  const journal = JSON.parse(await Deno.readTextFile(`${MIGRATIONS_FOLDER}/meta/_journal.json`));
  const last = journal.entries.findIndex((e: { tag: string }) => e.tag === tag);
  if (last < 0) throw new Error(`no migration ${tag}`);
  journal.entries = journal.entries.slice(0, last + 1);
  await Deno.mkdir(`${folder}/meta`);
  await Deno.writeTextFile(`${folder}/meta/_journal.json`, JSON.stringify(journal));
  for (const entry of journal.entries) {
    await Deno.copyFile(`${MIGRATIONS_FOLDER}/${entry.tag}.sql`, `${folder}/${entry.tag}.sql`);
  }
  let database: TestDatabase;
  if (TEST_DATABASE_URL) {
    neonSetup ??= setUpPostgres(TEST_DATABASE_URL);
    const { baseUrl } = await neonSetup;
    const name = `portal_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    await adminQuery(baseUrl, `CREATE DATABASE ${name}`);
    const dbUrl = withDatabase(baseUrl, name);
    const handle = await openDatabase({ url: dbUrl, dataDir: "" });
    await migrateNeon(handle.db as unknown as NeonDatabase, { migrationsFolder: folder });
    database = {
      ...handle,
      queries: [],
      ownerQuery: (sql) => adminQuery(new URL(dbUrl), sql),
      async dispose() {
        await handle.close();
        await adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    };
  } else {
    const client = await PGlite.create(PGLITE_OPTIONS);
    const handle = wrapPglite(client);
    await migratePglite(handle.db as unknown as PgliteDatabase, { migrationsFolder: folder });
    database = { ...handle, queries: [], ownerQuery: (sql) => client.exec(sql), dispose: () => client.close() };
  }
  await Deno.remove(folder, { recursive: true });
  return database;
}

let neonSetup: Promise<{ baseUrl: URL; template: string }> | undefined;

async function freshPostgres(url: string, bounds: ServerBounds): Promise<TestDatabase> {
  neonSetup ??= setUpPostgres(url);
  const { baseUrl, template } = await neonSetup;
  const name = `portal_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await adminQuery(baseUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
  const dbUrl = withDatabase(baseUrl, name);
  const queries: string[] = [];
  const handle = await openDatabase({ url: dbUrl, dataDir: "", onQuery: (sql) => queries.push(sql), ...bounds });
  return {
    ...handle,
    queries,
    ownerQuery: (sql) => adminQuery(new URL(dbUrl), sql),
    async dispose() {
      await handle.close();
      await adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * For the Neon driver, starts an in-process ws→tcp proxy (unless NEON_WS_PROXY names one); then
 * builds the template once. The tests' own set-up statements go over TCP whatever the app's driver.
 */
async function setUpPostgres(url: string) {
  const baseUrl = new URL(url);
  if (DRIVER === "neon") {
    let proxyAddress = Deno.env.get("NEON_WS_PROXY");
    if (!proxyAddress) {
      const target = `${baseUrl.hostname}:${baseUrl.port || 5432}`;
      const proxy = await startWsProxy({ allowed: [target] });
      proxyAddress = `127.0.0.1:${proxy.port}`;
    }
    configureNeonForProxy(proxyAddress);
  }
  const migrations = await migrationsFingerprint();
  const template = `portal_template_${migrations}`;
  const admin = postgres(baseUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    // Test files run in parallel: one builds the template, the others wait for it.
    await admin.unsafe("select pg_advisory_lock(727274)");
    const rows = await admin.unsafe("select 1 from pg_database where datname = $1", [template]);
    if (rows.length === 0) {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${template}_building WITH (FORCE)`);
      await admin.unsafe(`CREATE DATABASE ${template}_building`);
      const handle = await openDatabase({ url: withDatabase(baseUrl, `${template}_building`), dataDir: "" });
      await handle.migrate();
      await handle.close();
      await admin.unsafe(`ALTER DATABASE ${template}_building RENAME TO ${template}`);
    }
    await admin.unsafe("select pg_advisory_unlock(727274)");
  } finally {
    await admin.end();
  }
  return { baseUrl, template };
}

async function adminQuery(baseUrl: URL, sql: string) {
  const admin = postgres(baseUrl.toString(), { max: 1, onnotice: () => {}, fetch_types: false });
  try {
    return await admin.unsafe(sql);
  } finally {
    await admin.end();
  }
}

function withDatabase(baseUrl: URL, name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function migrationsFingerprint(): Promise<string> {
  const folder = new URL("../db/migrations/", import.meta.url);
  const names = [...Deno.readDirSync(folder)].filter((e) => e.name.endsWith(".sql")).map((e) => e.name).sort();
  const sources = [...names.map((n) => new URL(n, folder)), new URL("../db/permissions.ts", import.meta.url)];
  const text = (await Promise.all(sources.map((u) => Deno.readTextFile(u)))).join("\n");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
