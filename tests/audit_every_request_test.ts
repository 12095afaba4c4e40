/**
 * Every request to a route on health data or accounts leaves exactly one audit record: refusals by
 * the validator, unauthenticated requests, malformed and unsupported bodies, probes with ids that
 * are not ids, and reads of another user's account included; never two.
 */
import { assert, assertEquals } from "@std/assert";
import { eq } from "drizzle-orm";
import { auditLogs } from "../db/schema.ts";
import { type DeclaredRoute, declaredRoutes } from "../routes/_route.ts";
import { appTest, type TestApp } from "./_fixtures.ts";

const key = (r: DeclaredRoute) => `${r.method.toUpperCase()} ${r.path}`;

async function recordsOf(api: TestApp, requestId: string) {
  return await api.db.select().from(auditLogs).where(eq(auditLogs.requestId, requestId));
}

function hasJsonBody(route: DeclaredRoute): boolean {
  const content = (route.request?.body as { content?: Record<string, unknown> } | undefined)?.content;
  return Boolean(content?.["application/json"]);
}

appTest("every request to an audited route leaves exactly one record, whatever it is refused for", async (_t, api) => {
  const admin = await api.makeAdmin();
  const patient = await api.makePatient();
  const adminToken = (await api.signIn(admin)).access;
  const patientToken = (await api.signIn(patient)).access;
  const audited = declaredRoutes.filter((r) => r.audit);
  for (
    const path of [
      "/register",
      "/token",
      "/login",
      "/token/refresh",
      "/forgot-password",
      "/reset-password",
      "/me",
      "/logout",
      "/users/{id}",
      "/userroles",
      "/patients/{id}",
      "/appointments",
      "/prescriptions/{id}/history",
      "/labresults/{id}/file",
      "/auditlogs/verify",
    ]
  ) {
    assert(audited.some((r) => r.path === path), `${path} is audited`);
  }
  const wrong: string[] = [];
  let requests = 0;
  for (const route of audited) {
    const method = route.method.toUpperCase();
    const path = (id: string) => route.path.replace("{id}", id) + "/";
    const cases: { name: string; path: string; token?: string; raw?: string; type?: string }[] = [];
    if (route.access.kind !== "public") cases.push({ name: "no token", path: path(String(admin.id)) });
    if (route.path.includes("{id}")) {
      for (const id of ["0x3", "03", "0".repeat(2100) + "3", "99999999999"]) {
        cases.push({ name: `id ${id.slice(0, 8)}`, path: path(id), token: adminToken });
      }
      cases.push({ name: "another user's row", path: path(String(admin.id)), token: patientToken, raw: "{}" });
    }
    if (route.request?.query) cases.push({ name: "bad query", path: `${path("1")}?page_size=0`, token: adminToken });
    if (hasJsonBody(route)) {
      cases.push({ name: "unknown field", path: path("1"), token: adminToken, raw: '{"__nope": 1}' });
      cases.push({ name: "malformed JSON", path: path("1"), token: adminToken, raw: '{"a": ' });
      cases.push({ name: "wrong type", path: path("1"), token: adminToken, raw: "[]" });
      cases.push({ name: "not JSON", path: path("1"), token: adminToken, raw: "a=1", type: "text/plain" });
      // (Not on /logout/: it would end the session the other cases use.)
      if (route.path !== "/logout") {
        cases.push({ name: "as a patient", path: path(String(admin.id)), token: patientToken, raw: "{}" });
      }
    }
    for (const c of cases) {
      const headers: Record<string, string> = c.raw === undefined || method === "GET"
        ? {}
        : { "content-type": c.type ?? "application/json" };
      const res = await api.request(method, c.path, {
        token: c.token,
        raw: method === "GET" ? undefined : c.raw,
        headers,
      });
      requests++;
      const records = await recordsOf(api, res.headers.get("x-request-id")!);
      const where = `${key(route)} (${c.name}): ${res.status}`;
      if (res.status >= 500) wrong.push(`${where}: a 5xx ${res.text.slice(0, 100)}`);
      if (records.length !== 1) wrong.push(`${where}: ${records.length} records`);
      for (const r of records) {
        if (res.status >= 400 && r.outcome !== "denied") wrong.push(`${where}: recorded ${r.outcome}`);
        if (r.targetId !== null && !/^[1-9][0-9]*$/.test(r.targetId)) wrong.push(`${where}: target_id ${r.targetId}`);
        if (c.token === undefined && r.userId !== null) wrong.push(`${where}: a user on an anonymous request`);
      }
    }
  }
  console.log(`${audited.length} audited routes, ${requests} refused requests checked`);
  assertEquals(wrong, []);
});

appTest("a probe with an id that is not one answers 404 and is recorded with no id, never as typed", async (t, api) => {
  const doctor = await api.makeDoctor();
  const { access } = await api.signIn(doctor);
  for (const typed of ["0".repeat(2100) + "3", "03", "0x3", "3.0", "+3", "3e0"]) {
    await t.step(typed.length > 20 ? "2,100 leading zeros" : typed, async () => {
      for (const path of [`/patients/${typed}/`, `/prescriptions/${typed}/`, `/users/${typed}/`]) {
        const res = await api.request("GET", path, { token: access });
        assertEquals(res.status, 404, path);
        const [record, ...more] = await recordsOf(api, res.headers.get("x-request-id")!);
        assertEquals(more, []);
        assertEquals([record.outcome, record.targetId, record.userId], ["denied", null, doctor.id], path);
      }
    });
  }
  await t.step("the canonical id is recorded as parsed, so a search for it finds the probe", async () => {
    const res = await api.request("GET", "/patients/3/", { token: access });
    assertEquals(res.status, 404);
    const [record] = await recordsOf(api, res.headers.get("x-request-id")!);
    assertEquals([record.targetTable, record.targetId], ["patient_profiles", "3"]);
    const admin = await api.makeAdmin();
    const search = await api.request("GET", "/auditlogs/?target_table=patient_profiles&target_id=3", {
      token: (await api.signIn(admin)).access,
    });
    assertEquals((search.body.results as { id: number }[]).map((r) => r.id), [record.id]);
  });
});

appTest(
  "an unauthenticated request to a health-data route is recorded as denied, with its address",
  async (_t, api) => {
    const alice = await api.makePatient();
    const res = await api.request("GET", `/patients/${alice.id}/`, { ip: "203.0.113.44" });
    assertEquals(res.status, 401);
    const [record, ...more] = await recordsOf(api, res.headers.get("x-request-id")!);
    assertEquals(more, []);
    assertEquals(
      [record.action, record.outcome, record.userId, record.targetTable, record.targetId, record.ipAddress],
      ["read", "denied", null, "patient_profiles", String(alice.id), "203.0.113.44"],
    );
    assertEquals((record.details as { reason: string }).reason, "not-authenticated");
  },
);

appTest("reading another user's account is recorded as a denied read of that id", async (_t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makePatient()];
  const res = await api.request("GET", `/users/${bob.id}/`, { token: (await api.signIn(alice)).access });
  assertEquals(res.status, 404);
  const [record, ...more] = await recordsOf(api, res.headers.get("x-request-id")!);
  assertEquals(more, []);
  assertEquals([record.action, record.outcome, record.userId, record.targetId], [
    "read",
    "denied",
    alice.id,
    String(bob.id),
  ]);
});

appTest("the sign-in routes record what they refuse before the service decides, once each", async (t, api) => {
  const patient = await api.makePatient();
  const once = async (path: string, body: unknown, status: number, action: string) => {
    const res = await api.request("POST", path, { body, ip: "198.51.100.7" });
    assertEquals(res.status, status, `${path}: ${res.text.slice(0, 200)}`);
    await api.deps.background.settle();
    const records = await recordsOf(api, res.headers.get("x-request-id")!);
    assertEquals(records.map((r) => [r.action, r.outcome, r.ipAddress]), [[action, "denied", "198.51.100.7"]], path);
    return records[0];
  };
  await t.step("a body the validator refuses", async () => {
    await once("/token/", { username: patient.username }, 422, "login_failed");
    await once("/login/", { password: "x" }, 422, "login_failed");
    await once("/token/refresh/", {}, 422, "token_refresh");
    await once("/forgot-password/", { email: "not an address" }, 422, "password_reset");
  });
  await t.step("a refresh token that is no token", async () => {
    const record = await once("/token/refresh/", { refresh: "made-up" }, 401, "token_refresh");
    assertEquals((record.details as { reason: string }).reason.endsWith("invalid-refresh-token"), true);
  });
  await t.step("a reset request, known or unknown, is recorded once by its queued work", async () => {
    for (const email of [patient.email, "nobody@example.test"]) {
      const res = await api.request("POST", "/forgot-password/", { body: { email }, ip: "198.51.100.8" });
      assertEquals(res.status, 202);
      await api.deps.background.settle();
      assertEquals((await recordsOf(api, res.headers.get("x-request-id")!)).length, 1, email);
    }
  });
});
