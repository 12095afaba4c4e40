import { assert, assertEquals } from "@std/assert";

import { declaredRoutes } from "../routes/_route.ts";
import { consolePages } from "../routes/admin/index.ts";
import { appTest } from "./_fixtures.ts";
import { makeTestApp } from "./_fixtures.ts";

/** The only routes reachable without a token. */
const PUBLIC_ALLOWLIST = new Set([
  "GET /health",
  "GET /ready",
  "GET /openapi.json",
  "GET /docs",
  "GET /docs/assets/{name}",
  "GET /.well-known/jwks.json",
  "POST /register",
  "POST /token",
  "POST /login",
  "POST /token/refresh",
  "POST /forgot-password",
  "POST /reset-password",
  // Payment providers' webhooks: each verified by its signature (or secret path and a query) before anything else.
  "POST /payments/webhooks/stripe",
  "POST /payments/webhooks/sandbox",
  "POST /payments/webhooks/mpesa/{token}",
  // The page a reset link opens: a static form (the token it posts is the credential).
  "GET /reset-password",
]);

/** The console's pages reachable without a session: its sign-in form and its style sheet. */
const CONSOLE_PUBLIC = new Set(["GET /admin/login", "POST /admin/login", "GET /admin/static/console.css"]);

const key = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/:([A-Za-z_]+)/g, "{$1}")}`;

Deno.test("every route the app serves is declared with an access rule, and only the allowlist is public", async () => {
  const api = await makeTestApp();
  try {
    const declared = new Map(declaredRoutes.map((r) => [key(r.method, r.path), r]));
    assertEquals(declared.size, declaredRoutes.length, "a route is declared twice (declare routes at module level)");
    const served = api.app.routes.filter((r) => r.method !== "ALL" && !r.path.includes("*"));
    // Console pages are declared with the access rule of the API route they mirror (routes/admin/page.ts).
    const pages = new Set(consolePages.map((p) => key(p.method, p.path)));
    const undeclared = served.map((r) => key(r.method, r.path))
      .filter((k) => !declared.has(k) && !pages.has(k) && !CONSOLE_PUBLIC.has(k));
    assertEquals(undeclared, [], "routes served without a declaration");
    const publicRoutes = [...declared.entries()].filter(([, r]) => r.access.kind === "public").map(([k]) => k);
    assertEquals(publicRoutes.filter((k) => !PUBLIC_ALLOWLIST.has(k)), [], "public routes outside the allowlist");
    // A route limited by a policy other than `all` reads or writes someone's records or account
    // (`doctors:listed` only hides inactive doctors from the directory, which holds no health data).
    const healthData = [...declared.entries()].filter(([, r]) =>
      r.access.kind !== "public" && r.access.policy !== undefined && r.access.policy !== "all" &&
      r.access.policy !== "doctors:listed"
    );
    assertEquals(
      healthData.filter(([, r]) => !r.audit).map(([k]) => k),
      [],
      "health-data routes without an audit declaration",
    );
    assert(served.length >= declared.size, `${served.length} served, ${declared.size} declared`);
  } finally {
    await api.database.dispose();
  }
});

Deno.test("route modules never import the database client, the schema or drizzle, nor build queries", async () => {
  const offenders: string[] = [];
  for await (const entry of Deno.readDir(new URL("../routes/", import.meta.url))) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(`../routes/${entry.name}`, import.meta.url));
    for (
      const forbidden of [
        /from "drizzle-orm/,
        /from "\.\.\/db\/client\.ts"/,
        /from "\.\.\/db\/schema\.ts"/,
        /\b(db|tx)\.(select|insert|update|delete|execute|transaction)\(/,
      ]
    ) {
      if (forbidden.test(text)) offenders.push(`${entry.name}: ${forbidden.source}`);
    }
  }
  assertEquals(offenders, []);
});

appTest("GET /patients/ runs the same number of SQL statements for 200 patients as for 2", async (_t, api) => {
  const admin = await api.makeAdmin();
  const { access } = await api.signIn(admin);
  const count = async () => {
    api.database.queries.length = 0;
    const res = await api.request("GET", "/patients/?page_size=200", { token: access });
    assertEquals(res.status, 200);
    return { statements: api.database.queries.length, rows: (res.body.results as unknown[]).length };
  };
  for (let i = 0; i < 2; i++) await api.makePatient();
  const few = await count();
  for (let i = 0; i < 198; i++) await api.makePatient();
  const many = await count();
  assertEquals([few.rows, many.rows], [2, 200]);
  assertEquals(many.statements, few.statements);
  assert(many.statements <= 6, `${many.statements} statements: ${api.database.queries.join("\n")}`);
});

appTest("when the audit record of a read cannot be written the answer is 503 with no data", async (_t, api) => {
  const alice = await api.makePatient({ username: "alice_secret_name" });
  const { access } = await api.signIn(alice);
  await api.database.ownerQuery("ALTER TABLE audit_logs ADD CONSTRAINT audit_down CHECK (action = 'login') NOT VALID");
  for (const path of [`/patients/${alice.id}/`, "/patients/"]) {
    const res = await api.request("GET", path, { token: access });
    assertEquals([res.status, res.body.type], [503, "urn:problem-type:patient-portal:audit-unavailable"], path);
    assert(!res.text.includes("alice_secret_name") && !res.text.includes('"results"'), res.text);
  }
  const write = await api.request("PATCH", `/patients/${alice.id}/`, {
    token: access,
    body: { address: "never stored" },
  });
  assertEquals(write.status, 503);
  await api.database.ownerQuery("ALTER TABLE audit_logs DROP CONSTRAINT audit_down");
  const after = await api.request("GET", `/patients/${alice.id}/`, { token: access });
  assertEquals([after.status, after.body.address], [200, null]);
});
