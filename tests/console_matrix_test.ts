/**
 * The authorization matrix of the admin console: every console page × every kind of caller.
 * Anonymous callers are sent to the sign-in page; callers without `admin:console` get the 403
 * page; console users reach a page exactly when the API route it mirrors would let them (the
 * same rule, compared with the API's declaration), and every refusal leaves its audit record.
 */
import { assert, assertEquals } from "@std/assert";
import { eq } from "drizzle-orm";
import { auditLogs } from "../db/schema.ts";
import { resolveAccess } from "../middleware/access.ts";
import { declaredRoutes } from "../routes/_route.ts";
import { consolePages } from "../routes/admin/index.ts";
import { ALL_PERMISSIONS, BUILTIN_ROLES, type Permission } from "../services/permissions.ts";
import { apiSessionClient, type ConsoleClient, consoleRequest, consoleSignIn, makeStaff } from "./_console.ts";
import { appTest } from "./_fixtures.ts";

const BILLING: Permission[] = ["payments:read", "payments:read:any", "payments:refund", "admin:console"];
/** Every permission of the matrix's admin but the console itself. */
const NO_CONSOLE: Permission[] = ALL_PERMISSIONS.filter((p) => p !== "admin:console");

const pageKey = (method: string, path: string) =>
  `${method.toUpperCase()} ${path.replace(/:([A-Za-z_]+)/g, "{$1}").replace(/\/+$/, "")}`;

Deno.test("each console page mirrors the access rule of the API route it names", () => {
  const api = new Map(declaredRoutes.map((r) => [pageKey(r.method, r.path), r.access]));
  for (const page of consolePages.filter((p) => p.mirrors)) {
    const [method, path] = page.mirrors!.split(" ");
    const rule = api.get(pageKey(method, path));
    assert(rule, `${page.mirrors} is an API route`);
    assertEquals(page.access, rule, `${page.method} ${page.path} mirrors ${page.mirrors}`);
  }
});

appTest("console matrix: every page × caller answers as the page's rule says", async (_t, api) => {
  const victim = await api.makePatient();
  const actors = {
    patient: await api.makePatient(),
    doctor: await api.makeDoctor(),
    admin: await api.makeAdmin(),
    billing: await makeStaff(api, "billing_clerk", BILLING),
    noConsole: await makeStaff(api, "auditor_no_console", NO_CONSOLE),
  };
  const permissions: Record<keyof typeof actors, Set<Permission>> = {
    patient: new Set(BUILTIN_ROLES.patient.permissions),
    doctor: new Set(BUILTIN_ROLES.doctor.permissions),
    admin: new Set(ALL_PERMISSIONS),
    billing: new Set(BILLING),
    noConsole: new Set(NO_CONSOLE),
  };
  const clients = {} as Record<keyof typeof actors, ConsoleClient>;
  for (const [name, actor] of Object.entries(actors) as [keyof typeof actors, typeof victim][]) {
    // The console's sign-in refuses the others: they hold an API session, as after losing admin:console.
    clients[name] = permissions[name].has("admin:console")
      ? await consoleSignIn(api, actor)
      : await apiSessionClient(api, actor);
  }
  const pathOf = (path: string) => path.replace(":id", String(victim.id)).replace(":assignment", "999999");
  const mismatches: string[] = [];
  const unaudited: string[] = [];
  let cells = 0;
  // Sign-out last: it ends the caller's session.
  const pages = [...consolePages].sort((a, b) =>
    Number(a.path === "/admin/logout") - Number(b.path === "/admin/logout")
  );
  for (const page of pages) {
    const path = pathOf(page.path);
    const anonymous = page.method === "get"
      ? await consoleRequest(api, path)
      : await consoleRequest(api, path, { method: "POST", body: new URLSearchParams({}) });
    cells++;
    if (anonymous.status !== 303 || !anonymous.headers.get("location")?.startsWith("/admin/login")) {
      mismatches.push(`${page.method} ${page.path} as anonymous: ${anonymous.status}`);
    }
    await anonymous.body?.cancel();
    for (const [name, client] of Object.entries(clients) as [keyof typeof actors, ConsoleClient][]) {
      const res = page.method === "get" ? await client.get(path) : await client.post(path, {});
      cells++;
      const held = permissions[name];
      const allowed = held.has("admin:console") && (!page.access || resolveAccess(page.access, held).allowed);
      const where = `${page.method.toUpperCase()} ${page.path} as ${name}: ${res.status}`;
      const text = await res.text();
      if (allowed === (res.status === 403)) mismatches.push(`${where} (expected ${allowed ? "allowed" : "403"})`);
      const signedOut = page.path === "/admin/logout"; // its answer is the sign-in page
      if (!signedOut && res.status === 303 && res.headers.get("location")?.startsWith("/admin/login")) {
        mismatches.push(`${where}: sent to sign in`);
      }
      if (res.status === 403) {
        if (!text.includes("Not allowed")) mismatches.push(`${where}: not the 403 page`);
        const rows = await api.db.select().from(auditLogs).where(
          eq(auditLogs.requestId, res.headers.get("x-request-id")!),
        );
        const recorded = rows.some((r) =>
          r.outcome === "denied" && (r.details as Record<string, unknown>).via === "console"
        );
        if (!recorded) unaudited.push(where);
      }
    }
  }
  console.log(`console matrix: ${pages.length} pages × 6 callers = ${cells} cells`);
  assertEquals(mismatches, []);
  assertEquals(unaudited, [], "refusals without their audit record");
});

appTest("a billing clerk sees payments, not lab results, and no link to them", async (_t, api) => {
  const clerk = await makeStaff(api, "billing_clerk", BILLING);
  const client = await consoleSignIn(api, clerk);
  const dashboard = await (await client.get("/admin/")).text();
  assert(dashboard.includes('href="/admin/payments"'));
  for (const hidden of ["/admin/labresults", "/admin/audit", "/admin/users/new"]) {
    assert(!dashboard.includes(`href="${hidden}"`), `no link to ${hidden}`);
  }
  assertEquals((await client.get("/admin/payments")).status, 200);
  const refused = await client.get("/admin/labresults");
  assertEquals(refused.status, 403);
  assert((await refused.text()).includes("Not allowed"));
});
