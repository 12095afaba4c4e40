import { assert, assertEquals } from "@std/assert";
import { declaredRoutes } from "../routes/_route.ts";
import { appTest } from "./_fixtures.ts";

type Operation = { "x-access"?: { kind: string } & Record<string, unknown>; security?: unknown; description?: string };
type Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
};

/** Served, declared, but deliberately left out of the document (`hide`): the docs page and its files. */
const NOT_DOCUMENTED = new Set(["GET /docs", "GET /docs/assets/:name"]);
/** The admin console's HTML pages are not part of the API (console_matrix_test.ts walks them). */
const isConsole = (route: string) => /^[A-Z]+ \/admin(\/|$)/.test(route);
const METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);

/** The contract's path for a hono route: `:id` → `{id}`, and a trailing slash except on the ops and docs paths. */
function documentedPath(honoPath: string): string {
  const path = honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
  const bare = ["/health", "/ready", "/openapi.json", "/docs", "/.well-known/jwks.json"].some((p) =>
    path === p || path.startsWith(`${p}/`)
  );
  return bare || path.endsWith("/") ? path : `${path}/`;
}

function operations(doc: Document): [string, string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).filter(([method]) => METHODS.has(method)).map((
      [method, op],
    ): [string, string, Operation] => [path, method, op])
  );
}

async function fetchDocument(api: { request: (m: string, p: string) => Promise<{ status: number; body: unknown }> }) {
  const res = await api.request("GET", "/openapi.json");
  assertEquals(res.status, 200);
  return res.body as Document;
}

appTest("GET /openapi.json is OpenAPI 3.1 with the contract's paths, trailing slash included", async (_t, api) => {
  const res = await api.request("GET", "/openapi.json");
  assertEquals(res.status, 200);
  assert(res.headers.get("content-type")?.startsWith("application/json"));
  const doc = res.body as Document;
  assertEquals(doc.openapi, "3.1.0");
  assertEquals([doc.info.title, doc.info.version], ["Patient Portal API", "1.0.0"]);
  assert(doc.paths["/token/"]?.post, "POST /token/ is documented");
  assertEquals(doc.paths["/patients/{id}/"]?.get?.["x-access"], {
    kind: "permission",
    permission: "patients:read",
    any: "patients:read:any",
    policy: "patients:care",
  });
  assert(doc.paths["/health"]?.get && doc.paths["/ready"]?.get && doc.paths["/openapi.json"]?.get);
  for (const path of Object.keys(doc.paths)) {
    assertEquals(path, documentedPath(path), `${path} follows the trailing-slash rule`);
    assert(!path.startsWith("/docs"), `${path} is hidden from the document`);
  }
  assertEquals(doc.components.securitySchemes.bearerAuth, { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  assertEquals((await api.request("GET", "/openapi.json/")).text, res.text, "the same document, with or without slash");
});

appTest("every route the app serves is in the OpenAPI document, and nothing else is", async (_t, api) => {
  const doc = await fetchDocument(api);
  const served = new Set(
    api.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`).filter((r) => !isConsole(r)),
  );
  assert(served.size > 10, `the app serves ${served.size} routes`);
  for (const route of NOT_DOCUMENTED) assert(served.has(route), `${route} is served`);
  const missing = [...served].filter((route) => !NOT_DOCUMENTED.has(route)).filter((route) => {
    const [method, path] = route.split(" ");
    return !doc.paths[documentedPath(path)]?.[method.toLowerCase()];
  });
  assert(missing.length === 0, `routes missing from /openapi.json: ${missing.join(", ")}`);
  const servedDocumented = new Set([...served].map((r) => {
    const [method, path] = r.split(" ");
    return `${method.toLowerCase()} ${documentedPath(path)}`;
  }));
  const phantom = operations(doc).map(([path, method]) => `${method} ${path}`).filter((op) =>
    !servedDocumented.has(op)
  );
  assert(phantom.length === 0, `documented operations the app does not serve: ${phantom.join(", ")}`);
});

appTest("every operation states who may call it; only public ones need no bearer token", async (_t, api) => {
  const doc = await fetchDocument(api);
  const ops = operations(doc);
  assert(ops.length > 10);
  for (const [path, method, op] of ops) {
    const where = `${method.toUpperCase()} ${path}`;
    assert(op["x-access"]?.kind, `${where} has x-access`);
    assert(op.description?.includes("**Access:**"), `${where} describes its access`);
    if (op["x-access"].kind === "public") assertEquals(op.security, [], `${where} is public`);
    else assertEquals(op.security, [{ bearerAuth: [] }], `${where} needs a bearer token`);
  }
  const publicOps = ops.filter(([, , op]) => op["x-access"]?.kind === "public").map(([p, m]) => `${m} ${p}`);
  assert(publicOps.includes("post /token/") && publicOps.includes("get /openapi.json"));
  assert(!publicOps.includes("get /patients/"));
});

Deno.test("the docs routes are declared public, for API documentation, so they are in the route inventory", () => {
  for (const path of ["/openapi.json", "/docs", "/docs/assets/{name}"]) {
    const route = declaredRoutes.find((r) => r.path === path && r.method === "get");
    assertEquals(route?.access, { kind: "public", reason: "API documentation" }, path);
  }
});

appTest("GET /docs is Swagger UI loading only the app's own files, under a same-origin CSP", async (t, api) => {
  const page = await api.request("GET", "/docs");
  assertEquals(page.status, 200);
  assert(page.headers.get("content-type")?.startsWith("text/html"));
  assertEquals((await api.request("GET", "/docs/")).status, 200);
  const csp = page.headers.get("content-security-policy") ?? "";
  assert(csp.includes("script-src 'self';"), csp);
  assert(csp.includes("default-src 'none'") && csp.includes("frame-ancestors 'none'"), csp);
  assert(!/https?:\/\//.test(page.text), "no absolute URL in the page");
  assert(!/<script(?![^>]*\bsrc=)[^>]*>/.test(page.text), "no inline script (the CSP would refuse it)");
  const urls = [...page.text.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  assertEquals(urls.length, 6, urls.join(" "));
  for (const url of urls) {
    await t.step(`${url} is served`, async () => {
      assert(url.startsWith("/docs/assets/"), url);
      const res = await api.request("GET", url);
      assertEquals(res.status, 200);
      const type = res.headers.get("content-type") ?? "";
      const expected = url.includes(".png") ? "image/png" : url.includes(".css") ? "text/css" : "text/javascript";
      assert(type.startsWith(expected), `${url}: ${type}`);
      assertEquals(res.headers.get("x-content-type-options"), "nosniff");
      assert(res.text.length > 0);
      if (url.includes("swagger-ui")) {
        assertEquals(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
      }
    });
  }
  const init = await api.request("GET", "/docs/assets/init.js");
  assert(init.text.includes('url: "/openapi.json"') && init.text.includes("validatorUrl: null"));
});

appTest("the docs page offers a sign-in form whose served script fills the bearer token", async (_t, api) => {
  const page = await api.request("GET", "/docs");
  assert(/<form id="signin" method="post"/.test(page.text), "a sign-in form");
  assert(page.text.includes('name="username"') && page.text.includes('type="password"'));
  assert(page.text.includes('<script src="/docs/assets/signin.js?v='), "its script is a served file");
  const csp = page.headers.get("content-security-policy") ?? "";
  assert(csp.includes("form-action 'none'"), "without the script the form cannot be submitted");
  assert(csp.includes("connect-src 'self'"), "the script may call /token/ on this origin");
  const script = await api.request("GET", "/docs/assets/signin.js");
  assertEquals([script.status, script.headers.get("cache-control")], [200, "no-cache"]);
  for (const piece of ['fetch("/token/"', 'preauthorizeApiKey("bearerAuth"', 'fetch("/logout/"']) {
    assert(script.text.includes(piece), piece);
  }
  assert(!/localStorage|sessionStorage|document\.cookie/.test(script.text), "the token stays in the page");
  const doc = await api.request("GET", "/openapi.json");
  const schemes = (doc.body.components as { securitySchemes: Record<string, unknown> }).securitySchemes;
  assert("bearerAuth" in schemes, "the scheme the script fills exists");
});

appTest("GET /docs/assets/ serves only its allowlist: anything else is a 404 problem", async (_t, api) => {
  for (const name of ["index.html", "package.json", "swagger-ui.js.map", "..%2Fpackage.json", "..%2F..%2Fdeno.json"]) {
    const res = await api.request("GET", `/docs/assets/${name}`);
    assertEquals(res.status, 404, name);
    assertEquals(res.headers.get("content-type"), "application/problem+json");
  }
  assertEquals((await api.request("GET", "/docs/assets/../../deno.json")).status, 404);
  assertEquals((await api.request("POST", "/docs/assets/swagger-ui.css")).status, 405);
});
