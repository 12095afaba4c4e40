/**
 * Sign-in as an attacker tries it: a username that is someone's address, concurrent guesses, one
 * account under two spellings, a stranger trying to lock the owner out, a NUL in the name.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { and, eq } from "drizzle-orm";
import { auditLogs, users } from "../db/schema.ts";
import { loginDelayMs, normalisedLogin } from "../services/login_throttle.ts";
import { appTest } from "./_fixtures.ts";

const PASSWORD = "a long enough passphrase 9";

appTest("a username cannot be an e-mail address, so an address signs in to its own account only", async (t, api) => {
  const victim = await api.makePatient({ email: "victim@example.test" });
  await t.step("registering someone's address as a username is 422", async () => {
    const res = await api.request("POST", "/register/", {
      body: { username: "victim@example.test", email: "attacker@example.test", password: PASSWORD },
    });
    assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [422, "/username"]);
  });
  await t.step("nor can an administrator give an account such a username", async () => {
    const admin = await api.makeAdmin();
    const token = (await api.signIn(admin)).access;
    const created = await api.request("POST", "/users/", {
      token,
      body: { username: "x@example.test", email: "x2@example.test", password: PASSWORD },
    });
    assertEquals(created.status, 422);
    const renamed = await api.request("PATCH", `/users/${victim.id}/`, {
      token,
      body: { username: "someone@example.test" },
    });
    assertEquals(renamed.status, 422);
  });
  await t.step("the database refuses it too", async () => {
    await assertRejects(
      () =>
        api.database.ownerQuery(
          `insert into users (username, email, password_hash) values ('a@b.test', 'c@d.test', 'h')`,
        ),
      "users_username_not_email_check",
    );
  });
  await t.step(
    "an account from before the rule, named with the victim's address, never gets their sign-in",
    async () => {
      // Written as the old rules allowed: the constraint is NOT VALID for rows that existed.
      await api.database.ownerQuery(`alter table users drop constraint users_username_not_email_check;
      insert into users (username, email, password_hash)
        select 'victim@example.test', 'squatter@example.test', password_hash from users where id = ${victim.id};
      alter table users add constraint users_username_not_email_check
        check (position('@' in username) = 0) not valid;`);
      const res = await api.request("POST", "/login/", {
        body: { email: "victim@example.test", password: victim.password },
      });
      assertEquals([res.status, (res.body.user as { id: number }).id], [200, victim.id]);
      const viaUsernameField = await api.request("POST", "/login/", {
        body: { username: "VICTIM@example.test", password: victim.password },
      });
      assertEquals((viaUsernameField.body.user as { id: number }).id, victim.id);
    },
  );
});

appTest("concurrent wrong passwords for one account: only the limit's worth are checked", async (_t, api) => {
  const alice = await api.makePatient();
  const max = api.deps.config.RATE_LIMIT_LOGIN_PER_USER;
  const statuses = await Promise.all(
    Array.from(
      { length: 60 },
      () =>
        api.request("POST", "/token/", {
          body: { username: alice.username, password: "wrong guess" },
          ip: "198.51.100.5",
        })
          .then((r) => r.status),
    ),
  );
  assertEquals(statuses.filter((s) => s === 401).length, max);
  assertEquals(statuses.filter((s) => s === 429).length, 60 - max);
  const checked = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.action, "login_failed"), eq(auditLogs.userId, alice.id)),
  );
  const reasons = checked.map((r) => (r.details as { reason: string }).reason);
  assertEquals(reasons.filter((r) => r === "wrong_password").length, max, "passwords verified");
  assertEquals(reasons.filter((r) => r === "rate_limited").length, 60 - max);
});

appTest("the username and the e-mail of one account count as one", async (_t, api) => {
  const alice = await api.makePatient();
  const max = api.deps.config.RATE_LIMIT_LOGIN_PER_USER;
  const ip = "198.51.100.6";
  for (let i = 0; i < max; i++) {
    const login = i % 2 === 0 ? { username: alice.username.toUpperCase() } : { email: alice.email };
    assertEquals((await api.request("POST", "/token/", { body: { ...login, password: "nope" }, ip })).status, 401);
  }
  for (const login of [{ username: alice.username }, { email: alice.email.toUpperCase() }]) {
    const res = await api.request("POST", "/token/", { body: { ...login, password: alice.password }, ip });
    assertEquals(res.status, 429, JSON.stringify(login));
  }
}, { env: { RATE_LIMIT_LOGIN_DELAY_MAX_MS: "0" } });

appTest("a name that is no account is counted by its normalised spelling", async (_t, api) => {
  const max = api.deps.config.RATE_LIMIT_LOGIN_PER_USER;
  const spellings = ["Ghost", "ghost", " GHOST ", "ｇｈｏｓｔ"];
  let last = 0;
  for (let i = 0; i <= max; i++) {
    const username = spellings[i % spellings.length];
    last = (await api.request("POST", "/token/", { body: { username, password: "nope" }, ip: "198.51.100.8" })).status;
  }
  assertEquals(last, 429);
  assertEquals(normalisedLogin(" ＧＨＯＳＴ "), "ghost");
}, { env: { RATE_LIMIT_LOGIN_DELAY_MAX_MS: "0" } });

Deno.test("the delay doubles from 250 ms past the limit, up to its ceiling", () => {
  assertEquals([9, 10, 11, 12, 13, 14, 40].map((n) => loginDelayMs(n, 10, 4000)), [0, 0, 250, 500, 1000, 2000, 4000]);
  assertEquals(loginDelayMs(1000, 10, 4000), 4000);
});

appTest(
  "a stranger guessing from many addresses slows the owner down but never locks them out",
  async (_t, api) => {
    const alice = await api.makePatient();
    const max = api.deps.config.RATE_LIMIT_LOGIN_PER_USER;
    // Each attacking address until it is refused: the account has seen twice the limit in failures.
    for (const ip of ["198.51.100.21", "198.51.100.22"]) {
      const statuses = [];
      for (let i = 0; i <= max; i++) {
        statuses.push(
          (await api.request("POST", "/token/", { body: { username: alice.username, password: "nope" }, ip })).status,
        );
      }
      assertEquals(statuses.at(-1), 429, ip);
    }
    const started = performance.now();
    const owner = await api.request("POST", "/token/", {
      body: { username: alice.username, password: alice.password },
      ip: "203.0.113.200",
    });
    const waited = performance.now() - started;
    assertEquals(owner.status, 200, "the right password still works from the owner's address");
    assert(waited >= 300, `the attempt waited ${waited.toFixed(0)} ms`);
    const delayed = await api.db.select().from(auditLogs).where(
      and(eq(auditLogs.action, "login_failed"), eq(auditLogs.userId, alice.id)),
    );
    assert(delayed.some((r) => ((r.details as { delayed_ms?: number }).delayed_ms ?? 0) > 0), "failures were delayed");
  },
  { env: { RATE_LIMIT_LOGIN_DELAY_MAX_MS: "300" } },
);

appTest("a NUL byte or other control character in the login name is the one 401", async (_t, api) => {
  const alice = await api.makePatient();
  const bodies = [
    { username: "ali\u0000ce", password: alice.password },
    { username: `${alice.username}\u0000`, password: alice.password },
    { email: "a\u0000@example.test", password: alice.password },
    { username: "tab\there", password: alice.password },
    { username: "\ud800", password: alice.password },
  ];
  const wrong = await api.request("POST", "/token/", { body: { username: alice.username, password: "nope" } });
  for (const body of bodies) {
    const res = await api.request("POST", "/token/", { body });
    assertEquals([res.status, res.body.type, res.body.detail], [401, wrong.body.type, wrong.body.detail]);
  }
  const [row] = await api.db.select().from(users).where(eq(users.id, alice.id));
  assertEquals(row.lastLogin, null);
});
