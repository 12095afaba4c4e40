/**
 * Issue 9, point 26: `deno task seed:demo` as its own process. On the embedded database (and, in
 * the Postgres run, on a new Postgres database) it creates a working portal and prints the
 * accounts; a second run changes nothing and says so; the printed accounts sign in to a server
 * started with `deno task start` and see their data. Production is refused.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { Client } from "@neondatabase/serverless";
import { configureNeonForProxy } from "../db/neon.ts";
import { startWsProxy } from "../scripts/ws_tcp_proxy.ts";
import { DRIVER, TEST_DATABASE_URL } from "./_db.ts";
import { type ServerProcess, startServer, taskArgs } from "./_server.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

async function seed(env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: taskArgs("seed:demo"),
    cwd: new URL("../", import.meta.url),
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0", DENO_NO_UPDATE_CHECK: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** The printed accounts: `role username password name`. */
function accountsOf(stdout: string) {
  return [...stdout.matchAll(/^ {2}(admin|doctor|patient) +(\S+) +(\S+) +(.+)$/gm)].map((m) => ({
    role: m[1],
    username: m[2],
    password: m[3],
  }));
}

async function api(server: ServerProcess, path: string, init: { token?: string; body?: unknown } = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: init.body ? "POST" : "GET",
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body ? { "content-type": "application/json" } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

async function checkPortal(env: Record<string, string>) {
  const first = await seed(env);
  assertEquals([first.code, first.stderr], [0, ""], first.stdout);
  assertMatch(first.stdout, /^Demo data created in /m);
  const accounts = accountsOf(first.stdout);
  assertEquals(accounts.map((a) => a.role), ["admin", "doctor", "doctor", "patient", "patient", "patient"]);

  const again = await seed(env);
  assertEquals(again.code, 0, again.stderr);
  assertMatch(again.stdout, /The demo data is already in .* \(user demo_admin exists\); nothing was changed/);
  assertEquals(accountsOf(again.stdout), [], "no new accounts");

  const server = await startServer(env);
  try {
    const tokens: Record<string, string> = {};
    for (const a of accounts) {
      const res = await api(server, "/token/", { body: { username: a.username, password: a.password } });
      assertEquals(res.status, 200, `${a.username} signs in`);
      tokens[a.username] = res.body.access;
      const me = await api(server, "/me/", { token: res.body.access });
      assertEquals(me.body.roles, [a.role]);
    }
    const doctors = await api(server, "/doctors/", { token: tokens.alice });
    assertEquals(doctors.body.results.length, 2);
    for (const d of doctors.body.results) assert(d.working_hours && d.time_zone !== "UTC", "doctors keep hours");
    const slots = await api(server, `/doctors/${doctors.body.results[0].id}/slots/?date=2031-01-07`, {
      token: tokens.alice,
    });
    assert(slots.body.slots.length > 0, "a doctor's hours give free slots");
    const count = async (path: string, who: string) =>
      (await api(server, path, { token: tokens[who] })).body.results.length;
    assertEquals(await count("/appointments/", "alice"), 2);
    assertEquals(await count("/appointments/", "demo_admin"), 5);
    assertEquals(await count("/prescriptions/", "carol"), 2);
    assertEquals(await count("/labresults/", "carol"), 1, "the preliminary result is not shown to the patient");
    assertEquals(await count("/labresults/", "dr_house"), 3, "the results of his patients, preliminary included");
    assertEquals(await count("/patients/", "dr_grey"), 3, "Dr Grey's patients are under her care");
    const withFile = (await api(server, "/labresults/", { token: tokens.carol })).body.results[0];
    assertEquals(withFile.file?.content_type, "text/plain");
  } finally {
    await server.stop();
  }
}

Deno.test({
  name: "deno task seed:demo on the embedded database: a working portal once, nothing more the second time",
  ...processTest,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "portal-demo-" });
    try {
      await checkPortal({ DATABASE_URL: "", DATA_DIR: dir, LOG_LEVEL: "warn", MAIL_TRANSPORT: "log" });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `deno task seed:demo on Postgres, through the ${DRIVER === "neon" ? "Neon driver" : "postgres.js driver"}`,
  ignore: DRIVER === "pglite",
  ...processTest,
  async fn() {
    const base = new URL(TEST_DATABASE_URL!);
    const proxy = await startWsProxy({ allowed: [`${base.hostname}:${base.port || 5432}`] });
    configureNeonForProxy(`127.0.0.1:${proxy.port}`);
    const name = `portal_demo_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const url = new URL(base);
    url.pathname = `/${name}`;
    const env = {
      DATABASE_URL: url.toString(),
      NEON_WS_PROXY: `127.0.0.1:${proxy.port}`,
      LOG_LEVEL: "warn",
      MAIL_TRANSPORT: "log",
    };
    try {
      const migrate = await new Deno.Command(Deno.execPath(), {
        args: taskArgs("migrate"),
        cwd: new URL("../", import.meta.url),
        env: { ...env, DB_CREATE: "1", NO_COLOR: "1" },
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals(migrate.code, 0, new TextDecoder().decode(migrate.stderr));
      await checkPortal(env);
    } finally {
      base.pathname = "/postgres";
      const admin = new Client(base.toString());
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await proxy.close();
    }
  },
});

Deno.test("deno task seed:demo refuses APP_ENV=production", async () => {
  const run = await seed({
    APP_ENV: "production",
    JWT_PRIVATE_KEY: "{}",
    DATABASE_URL: "postgres://u@db.example/portal",
    PUBLIC_URL: "https://portal.example",
    MAIL_TRANSPORT: "smtp",
    SMTP_HOST: "smtp.example",
    AUDIT_HMAC_KEY: btoa("k".repeat(32)),
    PAYMENT_PROVIDER: "stripe",
    STRIPE_SECRET_KEY: "sk_live_x",
    STRIPE_WEBHOOK_SECRET: "whsec_x",
  });
  assertEquals(run.code, 2);
  assertEquals(run.stderr.trim().split("\n").filter((l) => !l.startsWith("Task ")), [
    "seed:demo refuses APP_ENV=production: demo accounts with printed passwords do not belong there",
  ]);
});
