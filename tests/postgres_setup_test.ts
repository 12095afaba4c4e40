/**
 * Issue 9, point 23: setting up on Postgres. A database that does not exist is one clear line from
 * the server and from `deno task migrate` (or is created with DB_CREATE=1); `/ready` says
 * "database migrations are pending" when that is what it is; a server whose database does not
 * answer starts but says so, in the log and at `/ready`. Against the local Postgres (the Postgres
 * run), the API and the task as their own processes under their tasks' permissions.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { Client } from "@neondatabase/serverless";
import { configureNeonForProxy } from "../db/neon.ts";
import { startWsProxy, type WsProxy } from "../scripts/ws_tcp_proxy.ts";
import { freePort } from "./_cluster.ts";
import { appTest } from "./_fixtures.ts";
import { DRIVER, TEST_DATABASE_URL } from "./_db.ts";
import { exitWithin, startServer, taskArgs } from "./_server.ts";

const onPostgres = { ignore: DRIVER === "pglite", sanitizeOps: false, sanitizeResources: false };
const ENV = { APP_ENV: "development", LOG_LEVEL: "info", MAIL_TRANSPORT: "log" };

function databaseUrl(name: string, port?: number): string {
  const url = new URL(TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
  url.pathname = `/${name}`;
  if (port) url.port = String(port);
  return url.toString();
}

async function admin(sql: string) {
  const client = new Client(databaseUrl("postgres"));
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function setUp(extraTargets: string[] = []): Promise<{ proxy: WsProxy; name: string }> {
  const base = new URL(databaseUrl("postgres"));
  const proxy = await startWsProxy({ allowed: [`${base.hostname}:${base.port || 5432}`, ...extraTargets] });
  configureNeonForProxy(`127.0.0.1:${proxy.port}`);
  return { proxy, name: `portal_setup_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}` };
}

/** `deno task migrate` as its own process: its status and its output lines. */
async function migrateTask(env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: taskArgs("migrate"),
    cwd: new URL("../", import.meta.url),
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0", DENO_NO_UPDATE_CHECK: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = (bytes: Uint8Array) => new TextDecoder().decode(bytes).split("\n").filter((l) => l.trim());
  return { code: out.code, stdout: lines(out.stdout), stderr: lines(out.stderr) };
}

Deno.test({
  name: "a database that does not exist is one line from the server and from deno task migrate",
  ...onPostgres,
  async fn() {
    const { proxy, name } = await setUp();
    const env = { ...ENV, DATABASE_URL: databaseUrl(name), NEON_WS_PROXY: `127.0.0.1:${proxy.port}` };
    const at = new URL(databaseUrl(name));
    const expected = `The database "${name}" does not exist on ${at.hostname}:${at.port || 5432}; ` +
      `create it (createdb ${name}) or set DB_CREATE=1`;
    try {
      const server = await startServer(env, { waitForHealth: false });
      const exited = await exitWithin(server, 30_000);
      const status = await server.stop("SIGKILL");
      assert(exited, "the server does not start");
      assertEquals(status.code, 1);
      assertEquals(server.otherOutput, [`Cannot start: ${expected}`]);
      assertEquals(server.logs.filter((l) => l.msg === "listening"), []);

      const migrate = await migrateTask(env);
      assertEquals([migrate.code, migrate.stderr, migrate.stdout], [1, [`Cannot migrate: ${expected}`], []]);
      const { rows } = await admin(`select 1 from pg_database where datname = '${name}'`);
      assertEquals(rows.length, 0, "nothing was created");
    } finally {
      await proxy.close();
    }
  },
});

Deno.test({
  name: "DB_CREATE=1 creates the database; /ready says migrations are pending until deno task migrate ran",
  ...onPostgres,
  async fn() {
    const { proxy, name } = await setUp();
    const env = { ...ENV, DATABASE_URL: databaseUrl(name), NEON_WS_PROXY: `127.0.0.1:${proxy.port}` };
    const server = await startServer({ ...env, DB_CREATE: "1" });
    try {
      assertEquals(server.logs.find((l) => l.msg === "database created")?.database, name);
      const listening = server.logs.find((l) => l.msg === "listening");
      assertEquals([listening?.ready, listening?.not_ready], [false, "database migrations are pending"]);
      assertEquals(server.logs.find((l) => l.msg === "not ready")?.detail, "database migrations are pending");
      const before = await fetch(`${server.url}/ready`);
      assertEquals([before.status, await before.json()], [503, {
        status: "not ready",
        detail: "database migrations are pending",
      }]);

      const migrate = await migrateTask(env);
      assertEquals([migrate.code, migrate.stdout, migrate.stderr], [0, [`migrations applied (${DRIVER})`], []]);
      const after = await fetch(`${server.url}/ready`);
      assertEquals([after.status, await after.json()], [200, { status: "ready" }]);
    } finally {
      await server.stop();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await proxy.close();
    }
  },
});

Deno.test({
  name: "deno task migrate with DB_CREATE=1 creates and migrates a new database",
  ...onPostgres,
  async fn() {
    const { proxy, name } = await setUp();
    try {
      const migrate = await migrateTask({
        ...ENV,
        DATABASE_URL: databaseUrl(name),
        NEON_WS_PROXY: `127.0.0.1:${proxy.port}`,
        DB_CREATE: "1",
      });
      assertEquals([migrate.code, migrate.stderr], [0, []]);
      assertEquals(migrate.stdout, [`database created database=${name}`, `migrations applied (${DRIVER})`]);
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await proxy.close();
    }
  },
});

Deno.test({
  name: "a server whose database does not answer starts, and says so in the log and at /ready",
  ...onPostgres,
  async fn() {
    const closed = freePort();
    const { proxy } = await setUp([`127.0.0.1:${closed}`]);
    const env = {
      ...ENV,
      DATABASE_URL: databaseUrl("portal", closed),
      NEON_WS_PROXY: `127.0.0.1:${proxy.port}`,
      DB_CONNECT_TIMEOUT_MS: "500",
    };
    const server = await startServer(env);
    try {
      const messages = server.logs.map((l) => l.msg);
      assert(messages.indexOf("database unavailable") >= 0, JSON.stringify(server.logs));
      assert(messages.indexOf("database unavailable") < messages.indexOf("listening"), "said before listening");
      const listening = server.logs.find((l) => l.msg === "listening");
      assertEquals([listening?.ready, listening?.not_ready], [false, "the database does not answer"]);
      assertEquals((await fetch(`${server.url}/health`).then((r) => r.json())).status, "ok");
      const ready = await fetch(`${server.url}/ready`);
      assertEquals([ready.status, (await ready.json()).detail], [503, "the database does not answer"]);
      const migrate = await migrateTask(env);
      assertEquals(migrate.code, 1);
      assertEquals(migrate.stderr.length, 1, migrate.stderr.join("\n"));
      assertMatch(
        migrate.stderr[0],
        new RegExp(`^Cannot migrate: The database at 127\\.0\\.0\\.1:${closed} does not answer`),
      );
    } finally {
      await server.stop();
      await proxy.close();
    }
  },
});

appTest(
  "GET /ready says migrations are pending on a database never migrated (no migrations table)",
  async (_t, api) => {
    await api.database.ownerQuery("drop table drizzle.__drizzle_migrations");
    const ready = await api.request("GET", "/ready");
    assertEquals([ready.status, ready.body.detail], [503, "database migrations are pending"]);
    await api.database.ownerQuery("drop schema drizzle cascade");
    const again = await api.request("GET", "/ready");
    assertStringIncludes(String(again.body.detail), "migrations are pending");
  },
);
