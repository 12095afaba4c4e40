import { assert, assertEquals, assertExists, assertNotEquals } from "@std/assert";
import { base64url, SignJWT } from "jose";
import { and, eq, isNull } from "drizzle-orm";
import { auditLogs, refreshTokens, sessions } from "../db/schema.ts";
import { generateSigningJwk, importSigningKey } from "../services/access_tokens.ts";
import { appTest, type TestApp } from "./_fixtures.ts";

async function me(api: TestApp, token: string) {
  return (await api.request("GET", "/me/", { token })).status;
}

appTest("POST /token/refresh/ rotates: the new pair works and the old refresh token is spent", async (_t, api) => {
  const alice = await api.makePatient();
  const first = await api.signIn(alice);
  const res = await api.request("POST", "/token/refresh/", { body: { refresh: first.refresh } });
  assertEquals(res.status, 200);
  assertNotEquals(res.body.refresh, first.refresh);
  assertEquals(await me(api, res.body.access as string), 200);
  const tokens = await api.db.select().from(refreshTokens);
  assertEquals(tokens.length, 2);
  assertEquals(tokens.filter((t) => t.spentAt).length, 1);
  // Only a hash of the secret is stored, never the token itself.
  const secret = first.refresh.split(".")[1];
  assert(tokens.every((t) => !new TextDecoder().decode(t.secretHash).includes(secret)));
});

appTest(
  "replaying a spent refresh token revokes the whole session, newest token and access included",
  async (_t, api) => {
    const alice = await api.makePatient();
    const first = await api.signIn(alice);
    const second = (await api.request("POST", "/token/refresh/", { body: { refresh: first.refresh } })).body as Record<
      string,
      string
    >;

    const replay = await api.request("POST", "/token/refresh/", { body: { refresh: first.refresh } });
    assertEquals(replay.status, 401);
    assertEquals(replay.body.type, "urn:problem-type:patient-portal:invalid-refresh-token");

    assertEquals((await api.request("POST", "/token/refresh/", { body: { refresh: second.refresh } })).status, 401);
    assertEquals(await me(api, second.access), 401);
    assertEquals(await me(api, first.access), 401);
    const [session] = await api.db.select().from(sessions);
    assertEquals(session.revokedReason, "token_reuse");
    const [event] = await api.db.select().from(auditLogs).where(eq(auditLogs.action, "token_reuse"));
    assertEquals([event.userId, event.outcome, event.targetId], [alice.id, "denied", session.id]);
  },
);

appTest("a reused refresh token does not touch the user's other sessions", async (_t, api) => {
  const alice = await api.makePatient();
  const laptop = await api.signIn(alice);
  const phone = await api.signIn(alice);
  await api.request("POST", "/token/refresh/", { body: { refresh: laptop.refresh } });
  await api.request("POST", "/token/refresh/", { body: { refresh: laptop.refresh } });
  assertEquals(await me(api, laptop.access), 401);
  assertEquals(await me(api, phone.access), 200);
});

appTest("refresh tokens expire after 7 idle days and 30 days in all", async (t, api) => {
  const alice = await api.makePatient();
  await t.step("idle for more than 7 days", async () => {
    const pair = await api.signIn(alice);
    api.clock.advance(7 * 24 * 3600 + 1);
    assertEquals((await api.request("POST", "/token/refresh/", { body: { refresh: pair.refresh } })).status, 401);
  });
  await t.step("used every 6 days, still ends at 30 days", async () => {
    let refresh = (await api.signIn(alice)).refresh;
    for (let day = 6; day < 30; day += 6) {
      api.clock.advance(6 * 24 * 3600);
      const res = await api.request("POST", "/token/refresh/", { body: { refresh } });
      assertEquals(res.status, 200, `day ${day}`);
      refresh = res.body.refresh as string;
    }
    api.clock.advance(6 * 24 * 3600);
    assertEquals((await api.request("POST", "/token/refresh/", { body: { refresh } })).status, 401);
  });
});

appTest("malformed, unknown and forged refresh tokens are refused without a 5xx", async (_t, api) => {
  const alice = await api.makePatient();
  const { refresh } = await api.signIn(alice);
  const [id] = refresh.split(".");
  const forged = `${id}.${base64url.encode(crypto.getRandomValues(new Uint8Array(32)))}`;
  for (const value of ["", "x", "a.b", forged, `${crypto.randomUUID()}.${refresh.split(".")[1]}`, "é".repeat(50)]) {
    const res = await api.request("POST", "/token/refresh/", { body: { refresh: value } });
    assert(res.status === 401 || res.status === 422, `${value}: ${res.status}`);
  }
  // The forged secret did not count as a reuse: the real token still works.
  assertEquals((await api.request("POST", "/token/refresh/", { body: { refresh } })).status, 200);
});

appTest("suspended or deactivated accounts cannot refresh, and their access tokens stop working", async (_t, api) => {
  const alice = await api.makePatient();
  const pair = await api.signIn(alice);
  await api.setStatus(alice, "suspended");
  assertEquals(await me(api, pair.access), 401);
  assertEquals((await api.request("POST", "/token/refresh/", { body: { refresh: pair.refresh } })).status, 401);
  await api.setStatus(alice, "active");
  assertEquals(await me(api, pair.access), 200);
});

appTest("POST /logout/ ends the session: its access and refresh tokens are refused from then on", async (t, api) => {
  const alice = await api.makePatient();
  const pair = await api.signIn(alice);
  const other = await api.signIn(alice);
  const res = await api.request("POST", "/logout/", { token: pair.access });
  assertEquals(res.status, 204);
  assertEquals(await me(api, pair.access), 401);
  assertEquals((await api.request("POST", "/token/refresh/", { body: { refresh: pair.refresh } })).status, 401);
  assertEquals(await me(api, other.access), 200);
  const [event] = await api.db.select().from(auditLogs).where(eq(auditLogs.action, "logout"));
  assertEquals(event.userId, alice.id);

  await t.step("with a refresh token of another of the caller's sessions, that one ends too", async () => {
    const third = await api.signIn(alice);
    const res = await api.request("POST", "/logout/", { token: third.access, body: { refresh: other.refresh } });
    assertEquals(res.status, 204);
    assertEquals(await me(api, other.access), 401);
  });

  await t.step("someone else's refresh token in the body is ignored", async () => {
    const bob = await api.makePatient();
    const bobs = await api.signIn(bob);
    const mine = await api.signIn(alice);
    assertEquals(
      (await api.request("POST", "/logout/", { token: mine.access, body: { refresh: bobs.refresh } })).status,
      204,
    );
    assertEquals(await me(api, bobs.access), 200);
  });

  await t.step("without a token it is 401", async () => {
    const res = await api.request("POST", "/logout/");
    assertEquals(res.status, 401);
    assertExists(res.headers.get("www-authenticate"));
  });
  const live = await api.db.select().from(sessions).where(
    and(eq(sessions.userId, alice.id), isNull(sessions.revokedAt)),
  );
  assertEquals(live.length, 0);
});

appTest("access tokens: expired, tampered, alg none, wrong type and refresh-as-access are refused", async (t, api) => {
  const alice = await api.makePatient();
  const pair = await api.signIn(alice);
  const [header, payload, signature] = pair.access.split(".");
  const json = (part: string) => JSON.parse(new TextDecoder().decode(base64url.decode(part)));
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  assertEquals(json(header).alg, "EdDSA");
  assertEquals(json(header).typ, "at+jwt");
  const claims = json(payload);
  assert(claims.exp - claims.iat <= 600, "lifetime at most 10 minutes");
  assertEquals(typeof claims.sid, "string");

  const { keys, issuer, audience } = api.deps.tokens;
  // Issued on the app's (test) clock, not the wall clock: under load the two drift apart.
  const expiry = Math.floor(api.clock.now().getTime() / 1000) + 300;
  const sign = (typ: string, over: { sid?: string; iss?: string; aud?: string } = {}) =>
    new SignJWT({ sid: over.sid ?? claims.sid }).setProtectedHeader({ alg: "EdDSA", typ }).setSubject(String(alice.id))
      .setIssuer(over.iss ?? issuer).setAudience(over.aud ?? audience).setIssuedAt(api.clock.now()).setExpirationTime(
        expiry,
      )
      .sign(keys.privateKey);

  const refused: Record<string, string> = {
    "tampered payload": `${header}.${encode({ ...claims, sub: "999" })}.${signature}`,
    "tampered signature": `${header}.${payload}.${signature[0] === "A" ? "B" : "A"}${signature.slice(1)}`,
    "alg none": `${encode({ alg: "none", typ: "at+jwt" })}.${payload}.`,
    "alg HS256 with the public key": `${encode({ alg: "HS256", typ: "at+jwt" })}.${payload}.${signature}`,
    "refresh token as access": pair.refresh,
    "typ JWT (not an access token)": await sign("JWT"),
    "wrong issuer": await sign("at+jwt", { iss: "someone-else" }),
    "wrong audience": await sign("at+jwt", { aud: "another-api" }),
    "signed by another key": await new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt" })
      .setSubject(String(alice.id)).setIssuer(issuer).setAudience(audience).setIssuedAt(api.clock.now())
      .setExpirationTime(expiry)
      .sign((await importSigningKey(await generateSigningJwk())).privateKey),
    "unknown session": await sign("at+jwt", { sid: crypto.randomUUID() }),
    "garbage": "not-a-token",
  };
  assertEquals(await me(api, await sign("at+jwt")), 200, "the control token is accepted");
  // Accepted once first, so each refusal below also holds for a token the server has verified before.
  assertEquals(await me(api, pair.access), 200, "the issued token is accepted");
  for (const [name, token] of Object.entries(refused)) {
    await t.step(name, async () => assertEquals(await me(api, token), 401));
  }
  await t.step("still accepted just before its expiry, refused after its lifetime", async () => {
    api.clock.advance(api.deps.config.ACCESS_TOKEN_TTL_SECONDS - 5);
    assertEquals(await me(api, pair.access), 200);
    api.clock.advance(6);
    assertEquals(await me(api, pair.access), 401);
  });
});
