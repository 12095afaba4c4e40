/**
 * Issue 9, point 17: every declared route, whoever calls it and however it ends (2xx, 401, 404,
 * 405, 422), answers with the security headers, and nothing a browser or proxy could keep — tokens,
 * health data, accounts — is cacheable. Table-driven over `declaredRoutes`, so a new route is
 * checked without a line here.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { type DeclaredRoute, declaredRoutes } from "../routes/_route.ts";
import { putUnderCare } from "./_care.ts";
import { type ApiResponse, appTest, type TestApp } from "./_fixtures.ts";

/** Routes that may be cached, and how: public documents that carry no account or health data. */
const CACHEABLE: Record<string, RegExp> = {
  "GET /docs": /^no-cache$/,
  "GET /docs/assets/{name}": /^(public, max-age=31536000, immutable|no-cache)$/,
  "GET /.well-known/jwks.json": /^public, max-age=\d+$/,
};

const keyOf = (r: DeclaredRoute) => `${r.method.toUpperCase()} ${r.path}`;

function concretePath(route: DeclaredRoute, id: number): string {
  const path = route.path.replace("{id}", String(id)).replace("{name}", "swagger-ui.css");
  return /^\/(health|ready|openapi\.json|docs|\.well-known)/.test(path) ? path : `${path}/`;
}

function checkHeaders(what: string, route: string, res: ApiResponse) {
  const h = res.headers;
  const where = `${what} ${route} (${res.status})`;
  assertEquals(h.get("x-content-type-options"), "nosniff", where);
  assertEquals(h.get("x-frame-options"), "DENY", where);
  assertEquals(h.get("referrer-policy"), "no-referrer", where);
  assertStringIncludes(h.get("strict-transport-security") ?? "", "max-age=", where);
  assertStringIncludes(h.get("content-security-policy") ?? "", "frame-ancestors 'none'", where);
  assertEquals(h.get("x-powered-by"), null, where);
  const cacheable = CACHEABLE[route];
  if (cacheable && res.status === 200) assert(cacheable.test(h.get("cache-control") ?? ""), `${where}: cacheable`);
  else assertStringIncludes(h.get("cache-control") ?? "", "no-store", where);
}

async function call(api: TestApp, route: DeclaredRoute, id: number, token?: string) {
  const method = route.method.toUpperCase();
  const body = ["POST", "PUT", "PATCH"].includes(method) ? {} : undefined;
  return await api.request(method, concretePath(route, id), { token, body });
}

appTest("every declared route answers with the security headers and no-store, signed in or not", async (t, api) => {
  assert(declaredRoutes.length > 40, "the routes are declared");
  const [admin, patient, doctor] = [await api.makeAdmin(), await api.makePatient(), await api.makeDoctor()];
  await putUnderCare(api, doctor, patient);
  const adminToken = (await api.signIn(admin)).access;
  const patientToken = (await api.signIn(patient)).access;
  for (const route of declaredRoutes) {
    await t.step(keyOf(route), async () => {
      checkHeaders("anonymous", keyOf(route), await call(api, route, patient.id));
      if (route.method === "get") {
        for (const token of [adminToken, patientToken]) {
          const res = await call(api, route, patient.id, token);
          checkHeaders("signed in", keyOf(route), res);
        }
      }
    });
  }
});

appTest("tokens, health data and account answers are no-store and nosniff when they succeed", async (_t, api) => {
  const [patient, doctor] = [await api.makePatient(), await api.makeDoctor()];
  await putUnderCare(api, doctor, patient);
  const credentials = { username: patient.username, password: patient.password };
  const token = await api.request("POST", "/token/", { body: credentials });
  const login = await api.request("POST", "/login/", { body: credentials });
  const refresh = await api.request("POST", "/token/refresh/", { body: { refresh: token.body.refresh } });
  const register = await api.request("POST", "/register/", {
    body: { username: "hdr_new", email: "hdr_new@example.test", password: "quiet lantern harbour 42" },
  });
  const access = token.body.access as string;
  const reads = await Promise.all(
    ["/me/", `/patients/${patient.id}/`, "/appointments/", "/me/access-log/", `/users/${patient.id}/`].map((p) =>
      api.request("GET", p, { token: access })
    ),
  );
  for (const res of [token, login, refresh, register, ...reads]) {
    assert(res.status === 200 || res.status === 201, res.text);
    assertEquals(res.headers.get("cache-control"), "no-store");
    assertEquals(res.headers.get("x-content-type-options"), "nosniff");
    assertStringIncludes(res.headers.get("content-type") ?? "", "application/json");
  }
});

appTest("the docs page keeps its own Content-Security-Policy; its files stay cacheable", async (_t, api) => {
  const page = await api.request("GET", "/docs");
  assertEquals(page.status, 200);
  const csp = page.headers.get("content-security-policy") ?? "";
  assertStringIncludes(csp, "script-src 'self'");
  assert(!csp.includes("'unsafe-eval'") && !/script-src[^;]*'unsafe-inline'/.test(csp), csp);
  assertEquals(page.headers.get("x-content-type-options"), "nosniff");
  const css = await api.request("GET", "/docs/assets/swagger-ui.css?v=1");
  assertEquals(css.headers.get("cache-control"), "public, max-age=31536000, immutable");
  const json = await api.request("GET", "/openapi.json");
  assertEquals(
    json.headers.get("content-security-policy"),
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  );
});
