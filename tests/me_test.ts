import { assertArrayIncludes, assertEquals } from "@std/assert";
import { appTest } from "./_fixtures.ts";

appTest("GET /me/ returns the caller's user, roles, permissions and profile", async (_t, api) => {
  const alice = await api.makePatient();
  const { access } = await api.signIn(alice);
  const res = await api.request("GET", "/me/", { token: access });
  assertEquals(res.status, 200);
  assertEquals([res.body.id, res.body.username, res.body.email, res.body.account_status], [
    alice.id,
    alice.username,
    alice.email,
    "active",
  ]);
  assertEquals(res.body.roles, ["patient"]);
  assertArrayIncludes(res.body.permissions as string[], ["appointments:read", "patients:write"]);
  assertEquals((res.body.permissions as string[]).includes("auditlogs:read"), false);
  assertEquals((res.body.profile as { user: number }).user, alice.id);
});

appTest("GET /me/ for an admin without a profile has profile null and every permission", async (_t, api) => {
  const admin = await api.makeAdmin();
  const res = await api.request("GET", "/me/", { token: (await api.signIn(admin)).access });
  assertEquals(res.body.profile, null);
  assertArrayIncludes(res.body.permissions as string[], ["auditlogs:read", "users:write:any", "payments:refund"]);
});

appTest("GET /me/ without a token is 401 with WWW-Authenticate, as problem+json", async (_t, api) => {
  const cases: Record<string, string>[] = [{}, { authorization: "Basic dXNlcjpwYXNz" }, { authorization: "Bearer" }, {
    authorization: "Bearer a b",
  }];
  for (const headers of cases) {
    const res = await api.request("GET", "/me/", { headers });
    assertEquals(res.status, 401);
    assertEquals(res.headers.get("www-authenticate"), 'Bearer realm="patient-portal"');
    assertEquals(res.headers.get("content-type"), "application/problem+json");
  }
});
