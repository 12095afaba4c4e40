/**
 * Issue 9, point 25: the password hasher. The native addon loads under `deno task start`'s
 * permissions; where it cannot (no FFI, as on Deno Deploy) a portable argon2id (hash-wasm, in
 * worker threads) takes over, and the two write and verify the same PHC strings both ways.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { openDatabase } from "../db/client.ts";
import { createAccount } from "../db/users.ts";
import { hashPortable, verifyPortable } from "../services/argon2_portable.ts";
import { nativeHasher, type PasswordHasher, portableHasher } from "../services/passwords.ts";
import { WorkQueue } from "../services/work_queue.ts";
import { exitWithin, startServer } from "./_server.ts";

const PHC = /^\$argon2id\$v=19\$m=12288,t=3,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;
const PASSWORD = "correct horse battery staple";
const processTest = { sanitizeOps: false, sanitizeResources: false };

Deno.test("native and portable argon2id write the same PHC parameters and verify each other's hashes", async () => {
  const native = await nativeHasher();
  const portable = portableHasher();
  const inline: PasswordHasher = { kind: "portable-inline", hash: hashPortable, verify: verifyPortable };
  assertEquals([native.kind, portable.kind], ["native", "portable"]);
  for (
    const [writer, readers] of [[native, [portable, inline]], [portable, [native, inline]], [inline, [native]]] as const
  ) {
    const phc = await writer.hash(PASSWORD);
    assertMatch(phc, PHC, writer.kind);
    for (const reader of readers) {
      assertEquals(await reader.verify(phc, PASSWORD), true, `${writer.kind} → ${reader.kind}`);
      assertEquals(await reader.verify(phc, "correct horse battery stapler"), false, `${writer.kind} → ${reader.kind}`);
      assertEquals(await reader.verify("not a phc string", PASSWORD), false, reader.kind);
    }
  }
});

/** The longest the event loop went without running a 1 ms timer while `work` ran. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
    await new Promise((r) => setTimeout(r, 5)); // the tick that ends a stall at the very end
  } finally {
    clearInterval(ticker);
  }
  return longest;
}

Deno.test("the portable hasher runs in worker threads: the event loop keeps turning during a hash", async () => {
  const portable = portableHasher();
  await portable.hash("warm up the workers");
  const started = performance.now();
  const inWorkers = await longestStall(() => Promise.all([1, 2, 3].map(() => portable.hash(PASSWORD))));
  const perHash = (performance.now() - started) / 3;
  const inline = await longestStall(() => hashPortable(PASSWORD));
  console.log(
    `portable argon2id: ${perHash.toFixed(0)} ms a hash (3 in 2 workers); longest event-loop stall ` +
      `${inWorkers.toFixed(0)} ms in workers, ${inline.toFixed(0)} ms inline`,
  );
  assert(inline > 40, `inline hashing blocks the loop (${inline.toFixed(0)} ms)`);
  assert(
    inWorkers < inline / 2,
    `workers stall the loop far less (${inWorkers.toFixed(0)} vs ${inline.toFixed(0)} ms)`,
  );
});

/** A data directory with one user whose hash the native addon wrote. */
async function dataDirWithNativeUser(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "portal-hasher-" });
  const handle = await openDatabase({ dataDir: dir });
  try {
    await handle.migrate();
    const passwordHash = await (await nativeHasher()).hash(PASSWORD);
    await createAccount(handle.db, { username: "native", email: "native@example.test", passwordHash, roleNames: [] });
  } finally {
    await handle.close();
  }
  return dir;
}

async function signIn(url: string, username: string): Promise<number> {
  const res = await fetch(`${url}/token/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  await res.body?.cancel();
  return res.status;
}

async function register(url: string, username: string): Promise<number> {
  const res = await fetch(`${url}/register/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, email: `${username}@example.test`, password: PASSWORD }),
  });
  await res.body?.cancel();
  return res.status;
}

const ENV = { APP_ENV: "development", DATABASE_URL: "", LOG_LEVEL: "info", MAIL_TRANSPORT: "log" };

Deno.test({
  name: "under deno task start the native addon loads; without FFI the server falls back to the portable hasher",
  ...processTest,
  async fn(t) {
    const dir = await dataDirWithNativeUser();
    try {
      await t.step("deno task start: native", async () => {
        const server = await startServer({ ...ENV, DATA_DIR: dir });
        try {
          assertEquals(server.logs.find((l) => l.msg === "listening")?.password_hasher, "native");
          assertEquals(await signIn(server.url, "native"), 200);
          assertEquals(await register(server.url, "by_native"), 201);
        } finally {
          await server.stop();
        }
      });
      await t.step("the same flags without --allow-ffi: portable, and hashes cross over both ways", async () => {
        const server = await startServer({ ...ENV, DATA_DIR: dir }, { withoutFlags: ["--allow-ffi"] });
        try {
          assertEquals(server.logs.find((l) => l.msg === "listening")?.password_hasher, "portable");
          assertEquals(await signIn(server.url, "native"), 200, "a native hash verifies");
          assertEquals(await signIn(server.url, "by_native"), 200);
          assertEquals(await register(server.url, "by_portable"), 201);
          assertEquals(await signIn(server.url, "by_portable"), 200);
        } finally {
          await server.stop();
        }
      });
      await t.step("back on the native addon, the portable hash verifies", async () => {
        const server = await startServer({ ...ENV, DATA_DIR: dir });
        try {
          assertEquals(await signIn(server.url, "by_portable"), 200);
        } finally {
          await server.stop();
        }
      });
      await t.step("PASSWORD_HASHER=portable forces the fallback; =native without FFI refuses to start", async () => {
        const forced = await startServer({ ...ENV, DATA_DIR: dir, PASSWORD_HASHER: "portable" });
        try {
          assertEquals(forced.logs.find((l) => l.msg === "listening")?.password_hasher, "portable");
          assertEquals(await signIn(forced.url, "native"), 200);
        } finally {
          await forced.stop();
        }
        const refused = await startServer({ ...ENV, DATA_DIR: dir, PASSWORD_HASHER: "native" }, {
          withoutFlags: ["--allow-ffi"],
          waitForHealth: false,
        });
        const exited = await exitWithin(refused, 30_000);
        const status = await refused.stop("SIGKILL");
        assert(exited);
        assertEquals(status.code, 1);
        assertEquals(refused.otherOutput.length, 1, refused.otherOutput.join("\n"));
        assertMatch(
          refused.otherOutput[0],
          /^Cannot start: PASSWORD_HASHER=native but the argon2 addon does not load here/,
        );
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("native hashes wait in a queue: 16 sign-ins at once run two hashes at a time, all answered", async () => {
  const queue = new WorkQueue(2);
  const native = await nativeHasher(queue);
  const phc = await native.hash(PASSWORD);
  const checks = Array.from({ length: 16 }, (_, i) => native.verify(phc, i % 2 ? PASSWORD : "wrong password"));
  assertEquals([queue.running, queue.waiting], [2, 14]);
  assertEquals(await Promise.all(checks), Array.from({ length: 16 }, (_, i) => i % 2 === 1));
  assertEquals([queue.running, queue.waiting], [0, 0]);
});

Deno.test("a work queue runs in arrival order, and a task that fails hands its slot on", async () => {
  const queue = new WorkQueue(1);
  const order: number[] = [];
  const failing = queue.run(() => Promise.reject(new Error("boom")));
  const rest = [1, 2, 3].map((n) => queue.run(() => Promise.resolve(order.push(n))));
  assertEquals(queue.waiting, 3);
  await failing.then(() => assert(false, "the failure is the caller's"), () => {});
  await Promise.all(rest);
  assertEquals([order, queue.running], [[1, 2, 3], 0]);
});
