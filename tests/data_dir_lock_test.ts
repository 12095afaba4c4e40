/**
 * Issue 9, point 19: one embedded database, one process. The servers run as `deno task start` and
 * `deno task dev` run them (their own permission flags, not the tests' -A): a second server on the
 * same DATA_DIR refuses with one clear line and a non-zero exit, and the first keeps serving its data.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { lockDataDir } from "../db/embedded_database.ts";
import { exitWithin, startServer } from "./_server.ts";

const ENV = { APP_ENV: "development", DATABASE_URL: "", LOG_LEVEL: "info", MAIL_TRANSPORT: "log" };

async function register(url: string, username: string) {
  const res = await fetch(`${url}/register/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, email: `${username}@example.test`, password: "quiet lantern harbour 42" }),
  });
  await res.body?.cancel();
  return res.status;
}

async function signIn(url: string, username: string) {
  const res = await fetch(`${url}/token/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: "quiet lantern harbour 42" }),
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test({
  name:
    "a second server on the same DATA_DIR refuses with one line under deno task start and dev; the first keeps its data",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "portal-lock-" });
    const first = await startServer({ ...ENV, DATA_DIR: dataDir }, { task: "start" });
    try {
      assertEquals(await register(first.url, "keeper"), 201);
      for (const task of ["start", "dev"]) {
        await t.step(`deno task ${task} refuses`, async () => {
          const second = await startServer({ ...ENV, DATA_DIR: dataDir }, { task, waitForHealth: false });
          const exited = await exitWithin(second, 30_000);
          const status = await second.stop("SIGKILL");
          assert(exited, `the second server kept running: ${JSON.stringify(second.logs)}`);
          assertEquals(status.success, false);
          assertEquals(second.otherOutput.length, 1, second.otherOutput.join("\n"));
          assertMatch(
            second.otherOutput[0],
            /^Cannot start: The embedded database in .* is in use by another process \(pid \d+\)/,
          );
          assertEquals(second.logs.filter((l) => l.msg === "listening"), [], "it never listened");
          assertEquals(status.code, 1);
        });
      }
      assert(first.alive(), "the first server still runs");
      assertEquals(await signIn(first.url, "keeper"), 200, "and still has its data");
      assertEquals(await register(first.url, "after"), 201, "and still writes");
    } finally {
      await first.stop();
    }
    await t.step("the lock goes with the process: the next server (dev) starts and sees the data", async () => {
      const next = await startServer({ ...ENV, DATA_DIR: dataDir }, { task: "dev" });
      try {
        assertEquals(await signIn(next.url, "keeper"), 200);
        assertEquals(await signIn(next.url, "after"), 200);
      } finally {
        await next.stop();
      }
    });
    await Deno.remove(dataDir, { recursive: true });
  },
});

Deno.test("the data directory lock is exclusive while held and free once released, within one process too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "portal-lock-" });
  try {
    const unlock = await lockDataDir(`${dir}/pglite`);
    await assertRejects(() => lockDataDir(`${dir}/pglite`), "is in use by another process");
    await unlock();
    const again = await lockDataDir(`${dir}/pglite`);
    await again();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
