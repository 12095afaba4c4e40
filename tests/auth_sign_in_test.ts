import { assert, assertEquals, assertExists } from "@std/assert";
import { and, eq } from "drizzle-orm";
import { auditLogs, sessions, users } from "../db/schema.ts";
import { type ApiResponse, appTest } from "./_fixtures.ts";

/** Everything a client sees except the per-request id. */
function visible(res: ApiResponse) {
  const { request_id: _, ...body } = res.body;
  return { status: res.status, body, wwwAuthenticate: res.headers.get("www-authenticate") };
}

appTest("POST /token/ signs in with username or e-mail, any letter case", async (_t, api) => {
  const alice = await api.makePatient({ username: "alice", email: "alice@example.test" });
  for (
    const login of [{ username: "alice" }, { username: "ALICE" }, { email: "Alice@Example.test" }, {
      username: "alice@example.test",
    }]
  ) {
    const res = await api.request("POST", "/token/", { body: { ...login, password: alice.password } });
    assertEquals(res.status, 200, JSON.stringify(login));
    assertEquals(typeof res.body.access, "string");
    assertEquals(typeof res.body.refresh, "string");
  }
  const [user] = await api.db.select().from(users).where(eq(users.id, alice.id));
  assertExists(user.lastLogin);
});

appTest("POST /login/ also returns the user with roles", async (_t, api) => {
  const doc = await api.makeDoctor();
  const res = await api.request("POST", "/login/", { body: { username: doc.username, password: doc.password } });
  assertEquals(res.status, 200);
  assertEquals(res.body.user, { id: doc.id, username: doc.username, email: doc.email, roles: ["doctor"] });
});

appTest("wrong password, unknown user, suspended and deactivated accounts get one identical 401", async (_t, api) => {
  const alice = await api.makePatient();
  const sus = await api.makePatient();
  const gone = await api.makePatient();
  await api.setStatus(sus, "suspended");
  await api.setStatus(gone, "deactivated");
  const attempts = [
    { username: alice.username, password: "wrong password!" },
    { username: "nobody-here", password: alice.password },
    { email: "nobody@example.test", password: alice.password },
    { username: sus.username, password: sus.password },
    { username: gone.username, password: gone.password },
  ];
  const responses = [];
  for (const body of attempts) responses.push(visible(await api.request("POST", "/token/", { body })));
  for (const res of responses) assertEquals(res, responses[0]);
  assertEquals(responses[0].status, 401);
  assertEquals(responses[0].body.type, "urn:problem-type:patient-portal:invalid-credentials");
  const login = visible(await api.request("POST", "/login/", { body: attempts[1] }));
  assertEquals(login, responses[0]);

  const failures = await api.db.select().from(auditLogs).where(eq(auditLogs.action, "login_failed"));
  assertEquals(failures.map((f) => (f.details as { reason: string }).reason).sort(), [
    "account_deactivated",
    "account_suspended",
    "unknown_user",
    "unknown_user",
    "unknown_user",
    "wrong_password",
  ]);
  const open = await api.db.select().from(sessions);
  assertEquals(open.length, 0);
});

appTest("an unknown username costs a password hash like a wrong password does", async (_t, api) => {
  const alice = await api.makePatient();
  await api.request("POST", "/token/", { body: { username: "warm-up", password: "x" } });
  // Interleaved and compared by medians, so a pause of the machine does not land on one side only;
  // 8 attempts each stays under the per-account limit (10), so no throttle delay joins in.
  const once = async (username: string) => {
    const started = performance.now();
    await api.request("POST", "/token/", { body: { username, password: "not the password" } });
    return performance.now() - started;
  };
  const times = { known: [] as number[], unknown: [] as number[] };
  for (let i = 0; i < 8; i++) {
    times.known.push(await once(alice.username));
    times.unknown.push(await once("no-such-user"));
  }
  const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [known, unknown] = [median(times.known), median(times.unknown)];
  // Both paths run one argon2id verification (~10 ms here); without it the unknown path is ~10× faster.
  assert(unknown > known * 0.5, `unknown ${unknown.toFixed(0)} ms vs known ${known.toFixed(0)} ms`);
});

appTest(
  "sign-in failures are limited per account and address, answering 429 with Retry-After",
  async (t, api) => {
    const alice = await api.makePatient();
    const max = api.deps.config.RATE_LIMIT_LOGIN_PER_USER;
    const attacker = "198.51.100.66";
    for (let i = 0; i < max; i++) {
      const res = await api.request("POST", "/token/", {
        body: { username: alice.username, password: "bad" },
        ip: attacker,
      });
      assertEquals(res.status, 401);
    }
    await t.step("that address is refused, the right password included", async () => {
      const res = await api.request("POST", "/token/", {
        body: { username: alice.username, password: alice.password },
        ip: attacker,
      });
      assertEquals(res.status, 429);
      assertEquals(res.headers.get("content-type"), "application/problem+json");
      const retry = Number(res.headers.get("retry-after"));
      assert(retry > 0 && retry <= api.deps.config.RATE_LIMIT_WINDOW_SECONDS, `Retry-After ${retry}`);
    });
    await t.step("the owner, elsewhere, is not locked out", async () => {
      const res = await api.request("POST", "/token/", {
        body: { username: alice.username, password: alice.password },
        ip: "203.0.113.9",
      });
      assertEquals(res.status, 200);
    });
    await t.step("another user is unaffected", async () => {
      const bob = await api.makePatient();
      assertEquals(
        (await api.request("POST", "/token/", { body: { username: bob.username, password: bob.password } })).status,
        200,
      );
    });
    await t.step("the window ends and sign-in works again from that address", async () => {
      api.clock.advance(api.deps.config.RATE_LIMIT_WINDOW_SECONDS + 1);
      const res = await api.request("POST", "/token/", {
        body: { username: alice.username, password: alice.password },
        ip: attacker,
      });
      assertEquals(res.status, 200);
    });
  },
  { env: { RATE_LIMIT_LOGIN_DELAY_MAX_MS: "0" } },
);

appTest("sign-in is rate limited per IP across usernames", async (_t, api) => {
  const ip = "198.51.100.77";
  let last = 0;
  for (let i = 0; i < 4; i++) {
    last = (await api.request("POST", "/token/", { body: { username: `u${i}`, password: "whatever1" }, ip })).status;
  }
  assertEquals(last, 429);
  const elsewhere = await api.request("POST", "/token/", {
    body: { username: "u9", password: "whatever1" },
    ip: "198.51.100.78",
  });
  assertEquals(elsewhere.status, 401);
}, { env: { RATE_LIMIT_LOGIN_PER_IP: "3" } });

appTest("a successful sign-in is audited with the session", async (_t, api) => {
  const alice = await api.makePatient();
  await api.signIn(alice);
  const [row] = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.action, "login"), eq(auditLogs.userId, alice.id)),
  );
  assertEquals([row.outcome, row.targetTable, row.ipAddress, row.role], [
    "success",
    "sessions",
    "192.0.2.1",
    "patient",
  ]);
  assertExists(row.requestId);
});
