import { assertArrayIncludes, assertEquals, assertMatch, assertRejects, assertStringIncludes } from "@std/assert";
import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { users } from "../db/schema.ts";
import { createSuperuser } from "../scripts/createsuperuser.ts";
import { appTest } from "./_fixtures.ts";

const PASSWORD = "Zq8!vLm#2pWx";

appTest("createsuperuser creates an admin who signs in with every admin permission", async (_t, api) => {
  const id = await createSuperuser(api.db, { username: "root", email: "Root@Example.test", password: PASSWORD });
  const signIn = await api.request("POST", "/token/", { body: { username: "root", password: PASSWORD } });
  assertEquals(signIn.status, 200, signIn.text);
  const me = await api.request("GET", "/me/", { token: signIn.body.access as string });
  assertEquals(me.status, 200, me.text);
  assertEquals([me.body.id, me.body.email, me.body.roles], [id, "root@example.test", ["admin"]]);
  assertArrayIncludes(me.body.permissions as string[], ["auditlogs:read"]);
});

appTest("createsuperuser refuses a duplicate username", async (_t, api) => {
  await createSuperuser(api.db, { username: "root", email: "root@example.test", password: PASSWORD });
  await assertRejects(
    () => createSuperuser(api.db, { username: "ROOT", email: "other@example.test", password: PASSWORD }),
    "already exists",
  );
  assertEquals(await countUsers(api.db, "root"), 1);
});

appTest("createsuperuser refuses a common or too short password", async (_t, api) => {
  await assertRejects(
    () => createSuperuser(api.db, { username: "root", email: "root@example.test", password: "password123" }),
    "too common",
  );
  await assertRejects(
    () => createSuperuser(api.db, { username: "root", email: "root@example.test", password: "Zq8!v" }),
    "at least 8 characters",
  );
  assertEquals(await countUsers(api.db, "root"), 0);
});

Deno.test("createsuperuser CLI creates the user from command-line flags", async () => {
  const run = await runCli(["--username", "root1", "--email", "root1@example.test", "--password", PASSWORD]);
  assertEquals(run.code, 0, run.stderr);
  assertMatch(run.stdout, /^superuser root1 created \(id \d+\)$/m);
});

Deno.test("createsuperuser CLI reads SUPERUSER_* variables when no flags are given", async () => {
  const run = await runCli([], {
    SUPERUSER_USERNAME: "root2",
    SUPERUSER_EMAIL: "root2@example.test",
    SUPERUSER_PASSWORD: PASSWORD,
  });
  assertEquals(run.code, 0, run.stderr);
  assertMatch(run.stdout, /^superuser root2 created \(id \d+\)$/m);
});

Deno.test("createsuperuser CLI exits 2 naming the missing values when stdin is not a terminal", async () => {
  const run = await runCli([]);
  assertEquals(run.code, 2, run.stderr);
  assertStringIncludes(run.stderr, "missing username, email, password");
});

async function countUsers(db: Database, name: string) {
  const rows = await db.select({ id: users.id }).from(users).where(sql`lower(${users.username}) = ${name}`);
  return rows.length;
}

async function runCli(args: string[], env: Record<string, string> = {}) {
  const dataDir = await Deno.makeTempDir({ prefix: "portal-cli-" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/createsuperuser.ts", ...args],
      cwd: new URL("..", import.meta.url).pathname,
      env: {
        APP_ENV: "test",
        DATABASE_URL: "memory://",
        DATA_DIR: dataDir,
        LOG_LEVEL: "silent",
        SUPERUSER_USERNAME: "",
        SUPERUSER_EMAIL: "",
        SUPERUSER_PASSWORD: "",
        ...env,
      },
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}
