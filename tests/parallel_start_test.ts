/**
 * `deno task start:parallel` (deno serve --parallel, one isolate per core) serves the API on
 * Postgres under the task's own permissions, and refuses the embedded database (one process).
 */
import { assertEquals } from "@std/assert";
import postgres from "postgres";
import { openDatabase } from "../db/client.ts";
import { generateSigningJwk } from "../services/access_tokens.ts";
import { DRIVER, TEST_DATABASE_URL } from "./_db.ts";
import { freePort } from "./_cluster.ts";
import { startServer, taskArgs } from "./_server.ts";
import { startWsProxy } from "../scripts/ws_tcp_proxy.ts";

Deno.test({
  name: DRIVER === "pglite"
    ? "deno task start:parallel: skipped on PGlite (Postgres only); runs with TEST_DATABASE_URL"
    : "deno task start:parallel serves on every core and answers /ready",
  ignore: DRIVER === "pglite",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const base = new URL(TEST_DATABASE_URL!);
    const name = `portal_parallel_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    const dataDir = await Deno.makeTempDir({ prefix: "portal-parallel-" });
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    // The Neon driver reaches this Postgres through a ws proxy; the set-up goes over TCP.
    const proxy = DRIVER === "neon" ? await startWsProxy({ allowed: [`${base.hostname}:${base.port || 5432}`] }) : null;
    try {
      const handle = await openDatabase({ url: url.toString(), dataDir: "", driver: "postgres" });
      await handle.migrate();
      await handle.close();
      const port = freePort();
      server = await startServer({
        APP_ENV: "test",
        DATABASE_URL: url.toString(),
        DATA_DIR: dataDir,
        JWT_PRIVATE_KEY: await generateSigningJwk(),
        LOG_LEVEL: "warn",
        PORT: String(port),
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
        DENO_JOBS: "2",
        ...(proxy ? { NEON_WS_PROXY: `127.0.0.1:${proxy.port}` } : {}),
      }, { task: "start:parallel" });
      // Each isolate gets ready on its own; the server answered /health from one of them.
      const deadline = Date.now() + 15_000;
      let statuses: number[] = [];
      do {
        const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`${server!.url}/ready`)));
        await Promise.all(answers.map((r) => r.body?.cancel()));
        statuses = answers.map((r) => r.status);
        if (statuses.every((s) => s === 200)) break;
        await new Promise((r) => setTimeout(r, 200));
      } while (Date.now() < deadline);
      assertEquals(statuses, Array(8).fill(200));
    } finally {
      await server?.stop("SIGTERM");
      await proxy?.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await admin.end();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("deno task start:parallel refuses the embedded database in one line", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: taskArgs("start:parallel"),
    cwd: new URL("../", import.meta.url),
    env: { DATABASE_URL: "memory://", NO_COLOR: "1", DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${freePort()}` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 2, stderr);
  // Each isolate says it (deno serve prefixes its lines with the isolate's name).
  const lines = stderr.split("\n").filter((l) => l.includes("Cannot start")).map((l) =>
    l.replace(/^\[[^\]]*\]\s*/, "")
  );
  assertEquals([...new Set(lines)], [
    "Cannot start: the embedded database (PGlite) is one process; use deno task start",
  ]);
});
