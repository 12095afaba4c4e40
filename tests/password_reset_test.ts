import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { eq } from "drizzle-orm";
import { auditLogs, integrationLogs, passwordResetTokens } from "../db/schema.ts";
import { type ApiResponse, appTest, type TestApp } from "./_fixtures.ts";

const NEW_PASSWORD = "a brand new passphrase 42";

function visible(res: ApiResponse) {
  const { request_id: _, ...body } = res.body;
  return { status: res.status, body };
}

async function resetTokenFromMail(api: TestApp): Promise<string> {
  const mails = await api.mails();
  const match = mails.at(-1)?.match(/reset-password\/\?token=([^\s]+)/);
  assert(match, "a reset link was mailed");
  return decodeURIComponent(match[1]);
}

appTest(
  "POST /forgot-password/ answers the same for known and unknown e-mails and mails only the known",
  async (_t, api) => {
    const alice = await api.makePatient();
    const known = await api.request("POST", "/forgot-password/", { body: { email: alice.email.toUpperCase() } });
    const unknown = await api.request("POST", "/forgot-password/", { body: { email: "nobody@example.test" } });
    assertEquals(visible(known), visible(unknown));
    assertEquals(known.status, 202);
    const mails = await api.mails();
    assertEquals(mails.length, 1);
    assertStringIncludes(mails[0], `To: ${alice.email}`);
    assertMatch(mails[0], /http:\/\/localhost:8000\/reset-password\/\?token=/);
    const [log] = await api.db.select().from(integrationLogs);
    assertEquals([log.systemName, log.dataType, log.syncStatus], ["mail:file", "password_reset", "success"]);
    const [stored] = await api.db.select().from(passwordResetTokens);
    const token = await resetTokenFromMail(api);
    assert(!new TextDecoder().decode(stored.secretHash).includes(token.split(".")[1]), "only a hash is stored");
  },
);

appTest("reset links are built from PUBLIC_URL, never from the request's Host header", async (_t, api) => {
  const alice = await api.makePatient();
  await api.request("POST", "/forgot-password/", {
    body: { email: alice.email },
    headers: { host: "evil.example", "x-forwarded-host": "evil.example" },
  });
  const [mail] = await api.mails();
  assertStringIncludes(mail, "https://portal.example.org/reset-password/?token=");
  assert(!mail.includes("evil.example"));
}, { env: { PUBLIC_URL: "https://portal.example.org/" } });

appTest(
  "POST /reset-password/ sets the password once, ends every session, and the token cannot be reused",
  async (t, api) => {
    const alice = await api.makePatient();
    const before = await api.signIn(alice);
    await api.request("POST", "/forgot-password/", { body: { email: alice.email } });
    const token = await resetTokenFromMail(api);

    await t.step("a weak new password is refused and does not spend the token", async () => {
      const res = await api.request("POST", "/reset-password/", { body: { token, new_password: "password" } });
      assertEquals(res.status, 422);
      assertEquals((res.body.errors as { pointer: string }[])[0].pointer, "/new_password");
    });

    const res = await api.request("POST", "/reset-password/", { body: { token, new_password: NEW_PASSWORD } });
    assertEquals(res.status, 204);
    assertEquals((await api.request("GET", "/me/", { token: before.access })).status, 401);
    assertEquals((await api.request("POST", "/token/refresh/", { body: { refresh: before.refresh } })).status, 401);
    assertEquals(
      (await api.request("POST", "/token/", { body: { username: alice.username, password: alice.password } })).status,
      401,
    );
    assertEquals(
      (await api.request("POST", "/token/", { body: { username: alice.username, password: NEW_PASSWORD } })).status,
      200,
    );

    const again = await api.request("POST", "/reset-password/", {
      body: { token, new_password: "yet another passphrase 7" },
    });
    assertEquals([again.status, again.body.type], [400, "urn:problem-type:patient-portal:invalid-reset-token"]);
    const audited = await api.db.select().from(auditLogs).where(eq(auditLogs.action, "password_reset"));
    const succeeded = audited.filter((a) => a.outcome === "success");
    assertEquals(succeeded.map((a) => (a.details as { stage: string }).stage).sort(), ["completed", "requested"]);
    assertEquals(
      audited.filter((a) => a.outcome === "denied").map((a) => (a.details as { reason: string }).reason),
      ["validation", "invalid-reset-token"],
      "the weak password's and the spent token's attempts are recorded",
    );
  },
);

appTest("a reset token expires after 30 minutes, and only the newest one works", async (t, api) => {
  const alice = await api.makePatient();
  await t.step("expired", async () => {
    await api.request("POST", "/forgot-password/", { body: { email: alice.email } });
    const token = await resetTokenFromMail(api);
    api.clock.advance(30 * 60 + 1);
    assertEquals(
      (await api.request("POST", "/reset-password/", { body: { token, new_password: NEW_PASSWORD } })).status,
      400,
    );
  });
  await t.step("superseded by a newer request", async () => {
    api.clock.advance(3600);
    await api.request("POST", "/forgot-password/", { body: { email: alice.email } });
    const older = await resetTokenFromMail(api);
    await api.request("POST", "/forgot-password/", { body: { email: alice.email } });
    const newer = await resetTokenFromMail(api);
    assertEquals(
      (await api.request("POST", "/reset-password/", { body: { token: older, new_password: NEW_PASSWORD } })).status,
      400,
    );
    assertEquals(
      (await api.request("POST", "/reset-password/", { body: { token: newer, new_password: NEW_PASSWORD } })).status,
      204,
    );
  });
  await t.step("forged tokens", async () => {
    for (const token of ["", "abc", `${crypto.randomUUID()}.${"A".repeat(43)}`]) {
      const res = await api.request("POST", "/reset-password/", { body: { token, new_password: NEW_PASSWORD } });
      assert(res.status === 400 || res.status === 422, `${token}: ${res.status}`);
    }
  });
});

appTest("no reset mail for suspended accounts, with the same answer", async (_t, api) => {
  const alice = await api.makePatient();
  await api.setStatus(alice, "suspended");
  const res = await api.request("POST", "/forgot-password/", { body: { email: alice.email } });
  assertEquals(res.status, 202);
  assertEquals((await api.mails()).length, 0);
});

appTest("forgot-password is rate limited per e-mail and per IP with 429 and Retry-After", async (t, api) => {
  const alice = await api.makePatient();
  const perEmail = api.deps.config.RATE_LIMIT_FORGOT_PER_EMAIL;
  for (let i = 0; i < perEmail; i++) {
    assertEquals(
      (await api.request("POST", "/forgot-password/", { body: { email: alice.email }, ip: `198.51.100.${i}` })).status,
      202,
    );
  }
  const limited = await api.request("POST", "/forgot-password/", {
    body: { email: alice.email },
    ip: "198.51.100.200",
  });
  assertEquals(limited.status, 429);
  assert(Number(limited.headers.get("retry-after")) > 0);
  assertEquals((await api.mails()).length, perEmail);

  await t.step("the same limit answers for an unknown e-mail (no enumeration)", async () => {
    for (let i = 0; i < perEmail; i++) {
      await api.request("POST", "/forgot-password/", { body: { email: "ghost@example.test" }, ip: `198.51.101.${i}` });
    }
    const res = await api.request("POST", "/forgot-password/", {
      body: { email: "ghost@example.test" },
      ip: "198.51.101.200",
    });
    assertEquals(res.status, 429);
  });
  await t.step("per IP", async () => {
    let status = 0;
    for (let i = 0; i <= api.deps.config.RATE_LIMIT_FORGOT_PER_IP; i++) {
      status =
        (await api.request("POST", "/forgot-password/", { body: { email: `x${i}@example.test` }, ip: "203.0.113.50" }))
          .status;
    }
    assertEquals(status, 429);
  });
});
