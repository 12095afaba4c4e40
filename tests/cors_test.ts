/**
 * Issue 9, point 20: a browser front end on a listed origin can call the API (preflight answered,
 * the answer readable); any other origin gets no CORS header; `*` is never sent and never accepted
 * in the configuration, and credentials are never allowed.
 */
import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { ConfigError, loadConfig } from "../config.ts";
import { appTest } from "./_fixtures.ts";

const FRONT = "https://portal.example";
const OTHER = "https://evil.example";

appTest("an allowed origin's preflight is answered and its requests are readable", async (_t, api) => {
  const patient = await api.makePatient();
  const preflight = await api.request("OPTIONS", "/appointments/", {
    headers: {
      origin: FRONT,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type, idempotency-key",
    },
  });
  assertEquals(preflight.status, 204);
  assertEquals(preflight.headers.get("access-control-allow-origin"), FRONT);
  assertStringIncludes(preflight.headers.get("access-control-allow-methods") ?? "", "POST");
  for (const header of ["Authorization", "Content-Type", "Idempotency-Key"]) {
    assertStringIncludes(preflight.headers.get("access-control-allow-headers") ?? "", header);
  }
  assertEquals(preflight.headers.get("access-control-allow-credentials"), null);
  assertEquals(preflight.headers.get("access-control-max-age"), "600");
  assertStringIncludes(preflight.headers.get("vary") ?? "", "Origin");

  const signIn = await api.request("POST", "/token/", {
    headers: { origin: FRONT },
    body: { username: patient.username, password: patient.password },
  });
  assertEquals(signIn.status, 200);
  assertEquals(signIn.headers.get("access-control-allow-origin"), FRONT);
  assertStringIncludes(signIn.headers.get("access-control-expose-headers") ?? "", "X-Request-Id");
  const me = await api.request("GET", "/me/", { token: signIn.body.access as string, headers: { origin: FRONT } });
  assertEquals([me.status, me.headers.get("access-control-allow-origin")], [200, FRONT]);
  assertStringIncludes(me.headers.get("vary") ?? "", "Origin");
  // Errors are readable too, so the front end can show them.
  const denied = await api.request("GET", "/me/", { headers: { origin: FRONT } });
  assertEquals([denied.status, denied.headers.get("access-control-allow-origin")], [401, FRONT]);
}, { env: { CORS_ORIGINS: `${FRONT}, http://localhost:5173` } });

appTest("another origin gets no CORS header, its preflight is not answered, and * is never sent", async (_t, api) => {
  const patient = await api.makePatient();
  for (const origin of [OTHER, "null", `${FRONT}.evil.example`, "http://portal.example", FRONT.toUpperCase()]) {
    const preflight = await api.request("OPTIONS", "/appointments/", {
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
    });
    assertEquals(preflight.status === 204, false, origin);
    assertEquals(preflight.headers.get("access-control-allow-origin"), null, origin);
    assertEquals(preflight.headers.get("access-control-allow-methods"), null, origin);
    const res = await api.request("POST", "/token/", {
      headers: { origin },
      body: { username: patient.username, password: patient.password },
    });
    assertEquals([res.status, res.headers.get("access-control-allow-origin")], [200, null], origin);
  }
}, { env: { CORS_ORIGINS: FRONT } });

appTest("without CORS_ORIGINS no origin is allowed", async (_t, api) => {
  const res = await api.request("GET", "/health", { headers: { origin: FRONT } });
  assertEquals([res.status, res.headers.get("access-control-allow-origin")], [200, null]);
  const preflight = await api.request("OPTIONS", "/health", {
    headers: { origin: FRONT, "access-control-request-method": "GET" },
  });
  assertEquals(preflight.headers.get("access-control-allow-origin"), null);
});

Deno.test("CORS_ORIGINS takes exact origins only: no *, no paths, no wildcards", () => {
  assertEquals(loadConfig({ CORS_ORIGINS: "https://a.example,  http://localhost:5173" }).CORS_ORIGINS, [
    "https://a.example",
    "http://localhost:5173",
  ]);
  for (const bad of ["*", "https://*.example", "https://a.example/app", "a.example", "ftp://a.example"]) {
    const error = assertThrows(() => loadConfig({ CORS_ORIGINS: bad }), ConfigError);
    assertStringIncludes(error.message, "CORS_ORIGINS");
  }
});
