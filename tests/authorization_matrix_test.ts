import { assert, assertEquals } from "@std/assert";
import { type DeclaredRoute, declaredRoutes } from "../routes/_route.ts";
import { anyPermissions } from "../middleware/access.ts";
import { eq } from "drizzle-orm";
import { auditLogs } from "../db/schema.ts";
import { appTest } from "./_fixtures.ts";
import { coreRecipes } from "./matrix/core.ts";
import { messagingRecipes } from "./matrix/messaging.ts";
import { paymentRecipes } from "./matrix/payments.ts";
import { resourceRecipes } from "./matrix/resources.ts";
import {
  buildWorld,
  type Caller,
  CALLERS,
  expected,
  idOf,
  type Outcome,
  POLICY_MODELS,
  type Recipe,
  type TargetRow,
  TARGETS,
  type World,
} from "./matrix/_world.ts";

const RECIPES: Record<string, Recipe> = { ...coreRecipes, ...resourceRecipes, ...messagingRecipes, ...paymentRecipes };

const key = (r: DeclaredRoute) => `${r.method.toUpperCase()} ${r.path}`;

function classify(status: number): Outcome {
  if (status >= 200 && status < 300) return "2xx";
  if (status === 401 || status === 403 || status === 404) return status;
  return "refused";
}

/** May the caller see this listed row, by the route's declared policy? */
function visibleTo(w: World, route: DeclaredRoute, caller: Caller, row: TargetRow): boolean {
  const access = route.access;
  if (access.kind === "public") return true;
  if (anyPermissions(access).some((p) => w.permissions[caller].has(p))) return true;
  return !access.policy || POLICY_MODELS[access.policy](w, idOf(w, caller)!, row);
}

/**
 * Every request to a route that touches health data leaves its record: success for a 2xx, a
 * denial for a 404 (out of scope or missing) and `access_denied` for a 403 on any route.
 */
async function auditProblem(w: World, route: DeclaredRoute, status: number, requestId: string): Promise<string | null> {
  const rows = await w.api.db.select().from(auditLogs).where(eq(auditLogs.requestId, requestId));
  const has = (action: string, outcome: string, table?: string) =>
    rows.some((r) => r.action === action && r.outcome === outcome && (!table || r.targetTable === table));
  const deniedByRule = route.audit && has(route.audit.action, "denied", route.audit.table);
  if (status === 403) return has("access_denied", "denied") || deniedByRule ? null : "no access_denied record";
  if (!route.audit || status === 401) return null;
  // An appended audit event is its own record (it names the caller, address and request id).
  if (route.audit.table === "audit_logs" && route.method === "post") return rows.length === 1 ? null : "not appended";
  if (status < 300) {
    return has(route.audit.action, "success", route.audit.table) ? null : `no ${route.audit.action} success record`;
  }
  if (status === 404) {
    return has(route.audit.action, "denied", route.audit.table) ? null : `no ${route.audit.action} denied record`;
  }
  return null;
}

appTest("authorization matrix: every route × caller × target answers as declared", async (_t, api) => {
  const w = await buildWorld(api);
  // Every policy a request's queries applied, by request id: it must be the one the route declares.
  const applied = new Map<string, Set<string>>();
  api.deps.onPolicyApplied = (requestId, policy) => {
    if (!applied.has(requestId)) applied.set(requestId, new Set());
    applied.get(requestId)!.add(policy);
  };
  const policyMismatches: string[] = [];
  const only = Deno.env.get("MATRIX_ONLY");
  const routes = declaredRoutes.filter((r) => r.access.kind !== "public" && (!only || key(r).includes(only)));
  const withoutRecipe = routes.filter((r) => !RECIPES[key(r)]).map(key);
  assertEquals(withoutRecipe, [], `routes without a matrix recipe: ${withoutRecipe.join(", ")}`);
  const mismatches: string[] = [];
  const unexpected2xx: string[] = [];
  const missingAudit: string[] = [];
  let cells = 0;
  for (const route of routes) {
    const recipe = RECIPES[key(route)];
    const missingBodies = new Map<Caller, string>();
    // The nonexistent id first, so cross-scope 404s can be compared with it.
    for (const target of ["missing", "own", "another"] as const) {
      for (const caller of CALLERS) {
        const { cell, row } = await recipe.request(w, target, caller);
        const token = caller === "anonymous" ? undefined : cell.token ?? w.tokens[caller];
        const res = await api.request(cell.method, cell.path, {
          body: cell.body,
          raw: cell.raw,
          headers: cell.headers,
          token,
        });
        cells++;
        const actual = classify(res.status);
        const wanted = recipe.expect?.(w, caller, target, row) ?? expected(w, route, caller, target, row);
        const ok = Array.isArray(wanted) ? wanted.includes(actual) : wanted === actual;
        const where = `${key(route)} as ${caller} on ${target}: ${res.status} (expected ${wanted})`;
        if (!ok) (actual === "2xx" ? unexpected2xx : mismatches).push(`${where} ${res.text.slice(0, 160)}`);
        if (res.status === 404) {
          const body = JSON.stringify({ ...res.body, request_id: null });
          if (target === "missing") missingBodies.set(caller, body);
          else if (missingBodies.has(caller) && missingBodies.get(caller) !== body) {
            mismatches.push(`${where}: its 404 body differs from the nonexistent-id body`);
          }
        }
        const declared = route.access.kind === "public" ? undefined : route.access.policy;
        for (const policy of applied.get(res.headers.get("x-request-id")!) ?? []) {
          if (policy !== declared) policyMismatches.push(`${where}: ran ${policy}, declares ${declared ?? "none"}`);
        }
        if (route.audit || actual === 403) {
          const problem = await auditProblem(w, route, res.status, res.headers.get("x-request-id")!);
          if (problem) missingAudit.push(`${where}: ${problem}`);
        }
        if (actual === "2xx" && recipe.listed) {
          for (const row of recipe.listed(res.body)) {
            if (!visibleTo(w, route, caller, row)) unexpected2xx.push(`${where}: lists row ${JSON.stringify(row)}`);
          }
        }
      }
    }
  }
  console.log(
    `authorization matrix: ${routes.length} routes × ${CALLERS.length} callers × ${TARGETS.length} targets = ${cells} cells`,
  );
  assertEquals(unexpected2xx, [], `unexpected 2xx:\n${unexpected2xx.join("\n")}`);
  assertEquals(mismatches, [], `cells that did not answer as declared:\n${mismatches.join("\n")}`);
  assertEquals(missingAudit, [], `requests without their audit record:\n${missingAudit.join("\n")}`);
  assertEquals([...new Set(policyMismatches)], [], "routes whose queries ran another policy than declared");
  assert(applied.size > 0, "the probe saw the policies applied");
  assert(cells >= routes.length * CALLERS.length * TARGETS.length);
});
