/**
 * Where a request came from, as its records keep it: the server's own request id (the client's
 * kept apart), a bounded user agent, and the address the trusted proxy saw, never one the client
 * wrote into the header itself.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { eq } from "drizzle-orm";
import { proxiedAddress } from "../middleware/request_context.ts";
import { auditLogs, sessions } from "../db/schema.ts";
import { appTest, type TestApp } from "./_fixtures.ts";

async function recordOf(api: TestApp, requestId: string) {
  const rows = await api.db.select().from(auditLogs).where(eq(auditLogs.requestId, requestId));
  assertEquals(rows.length, 1, `one record for ${requestId}`);
  return rows[0];
}

appTest("two users sending the same X-Request-Id get records with distinct server ids", async (_t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makePatient()];
  const ids: string[] = [];
  for (const who of [alice, bob]) {
    const { access } = await api.signIn(who);
    const res = await api.request("GET", `/patients/${who.id}/`, {
      token: access,
      headers: { "x-request-id": "shared-trace-1" },
    });
    assertEquals(res.status, 200);
    const serverId = res.headers.get("x-request-id")!;
    assertMatch(serverId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const record = await recordOf(api, serverId);
    assertEquals([record.requestId, record.clientRequestId, record.userId], [serverId, "shared-trace-1", who.id]);
    ids.push(serverId);
  }
  assert(ids[0] !== ids[1]);
  const shared = await api.db.select().from(auditLogs).where(eq(auditLogs.requestId, "shared-trace-1"));
  assertEquals(shared, [], "no record takes the client's id as its own");
});

appTest("a client request id that is not well-formed is not kept", async (_t, api) => {
  const alice = await api.makePatient();
  const { access } = await api.signIn(alice);
  for (const sent of ["<script>", "x".repeat(101), "a b"]) {
    const res = await api.request("GET", `/patients/${alice.id}/`, {
      token: access,
      headers: { "x-request-id": sent },
    });
    const record = await recordOf(api, res.headers.get("x-request-id")!);
    assertEquals(record.clientRequestId, null, sent);
  }
});

appTest("the user agent is bounded to 500 characters in audit records and sessions alike", async (_t, api) => {
  const alice = await api.makePatient();
  const agent = "Mozilla/5.0 " + "é".repeat(10_000) + "\ttail";
  const res = await api.request("POST", "/token/", {
    body: { username: alice.username, password: alice.password },
    headers: { "user-agent": agent },
  });
  assertEquals(res.status, 200);
  const record = await recordOf(api, res.headers.get("x-request-id")!);
  assertEquals([...record.userAgent!].length, 500);
  assert(record.userAgent!.startsWith("Mozilla/5.0 éé"));
  const [session] = await api.db.select().from(sessions).where(eq(sessions.userId, alice.id));
  assertEquals(session.userAgent, record.userAgent);
  const denied = await api.request("GET", `/patients/${alice.id}/`, { headers: { "user-agent": agent } });
  assertEquals([...(await recordOf(api, denied.headers.get("x-request-id")!)).userAgent!].length, 500);
});

Deno.test("the trusted proxy's entry is the right-most one, or TRUSTED_PROXY_HOPS from the right", () => {
  assertEquals(proxiedAddress("6.6.6.6, 203.0.113.7", 1), "203.0.113.7");
  assertEquals(proxiedAddress("6.6.6.6,203.0.113.7, 10.0.0.2", 2), "203.0.113.7");
  assertEquals(proxiedAddress("203.0.113.7", 2), null, "fewer entries than trusted proxies: no address");
  assertEquals(proxiedAddress("2001:db8::1", 1), "2001:db8::1");
  assertEquals(proxiedAddress("1.2.3.4, <script>", 1), null);
  assertEquals(proxiedAddress("", 1), null);
});

appTest(
  "behind X-Forwarded-For, a forged first entry is ignored for rate limits and audit addresses",
  async (t, api) => {
    const alice = await api.makePatient();
    const appended = "203.0.113.7";
    const forged = (i: number) => ({ "x-forwarded-for": `198.51.100.${i}, ${appended}` });
    await t.step("the record holds the address the proxy appended", async () => {
      const res = await api.request("POST", "/token/", {
        body: { username: alice.username, password: alice.password },
        headers: forged(1),
        ip: "10.0.0.2",
      });
      assertEquals(res.status, 200);
      assertEquals((await recordOf(api, res.headers.get("x-request-id")!)).ipAddress, appended);
    });
    await t.step("the per-address sign-in limit counts it, whatever the client prepends", async () => {
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const res = await api.request("POST", "/token/", {
          body: { username: `nobody${i}`, password: "not a password" },
          headers: forged(10 + i),
          ip: "10.0.0.2",
        });
        statuses.push(res.status);
      }
      assertEquals(statuses, [401, 401, 429, 429]);
      const other = await api.request("POST", "/token/", {
        body: { username: "nobody", password: "not a password" },
        headers: { "x-forwarded-for": "203.0.113.8" },
        ip: "10.0.0.2",
      });
      assertEquals(other.status, 401, "another client behind the same proxy is not limited");
    });
  },
  { env: { TRUSTED_PROXY_HEADER: "x-forwarded-for", RATE_LIMIT_LOGIN_PER_IP: "3" } },
);

appTest(
  "with TRUSTED_PROXY_HOPS=2 the address is the second entry from the right",
  async (_t, api) => {
    const alice = await api.makePatient();
    const res = await api.request("POST", "/token/", {
      body: { username: alice.username, password: alice.password },
      headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.9, 10.1.1.1" },
    });
    assertEquals((await recordOf(api, res.headers.get("x-request-id")!)).ipAddress, "203.0.113.9");
  },
  { env: { TRUSTED_PROXY_HEADER: "x-forwarded-for", TRUSTED_PROXY_HOPS: "2" } },
);
