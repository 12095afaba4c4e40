/**
 * When the audit record cannot be written, every audited route answers 503 `audit-unavailable`
 * and hands out no data, the account routes included: the same refusal on every route, because
 * every route records through the one unit of work.
 */
import { assertEquals } from "@std/assert";
import { declaredRoutes } from "../routes/_route.ts";
import { appTest } from "./_fixtures.ts";
import { coreRecipes } from "./matrix/core.ts";
import { messagingRecipes } from "./matrix/messaging.ts";
import { paymentRecipes } from "./matrix/payments.ts";
import { resourceRecipes } from "./matrix/resources.ts";
import { buildWorld, CALLERS, expected, type Recipe } from "./matrix/_world.ts";

const RECIPES: Record<string, Recipe> = { ...coreRecipes, ...resourceRecipes, ...messagingRecipes, ...paymentRecipes };
const UNAVAILABLE = "urn:problem-type:patient-portal:audit-unavailable";

appTest(
  "with the audit table unwritable, every audited route answers 503 audit-unavailable with no data",
  async (_t, api) => {
    const w = await buildWorld(api);
    // (Not /logout/: its `logout` records are the ones this test leaves writable.)
    const routes = declaredRoutes.filter((r) => r.audit && r.access.kind !== "public" && r.path !== "/logout");
    // Sign-ins stay possible (fresh sessions for the cells), everything else is refused by the table.
    await api.database.ownerQuery(
      "ALTER TABLE audit_logs ADD CONSTRAINT audit_down CHECK (action in ('login', 'logout')) NOT VALID",
    );
    const wrong: string[] = [];
    for (const route of routes) {
      const key = `${route.method.toUpperCase()} ${route.path}`;
      const recipe = RECIPES[key];
      // A caller the route would serve (2xx) on their own row.
      for (const caller of CALLERS.filter((c) => c !== "anonymous")) {
        const { cell, row } = await recipe.request(w, "own", caller);
        const wanted = recipe.expect?.(w, caller, "own", row) ?? expected(w, route, caller, "own", row);
        if (wanted !== "2xx" && !(Array.isArray(wanted) && wanted.includes("2xx"))) continue;
        const res = await api.request(cell.method, cell.path, {
          body: cell.body,
          token: cell.token ?? w.tokens[caller],
        });
        if (res.status !== 503 || res.body.type !== UNAVAILABLE || "results" in res.body || "id" in res.body) {
          wrong.push(`${key} as ${caller}: ${res.status} ${res.text.slice(0, 120)}`);
        }
        break;
      }
    }
    assertEquals(wrong, []);
    // Account routes are among them.
    const accounts = routes.filter((r) => r.path.startsWith("/users")).length;
    assertEquals(accounts >= 5, true, `${accounts} account routes checked`);
    // And the public registration, which creates an account and a patient profile.
    const register = await api.request("POST", "/register/", {
      body: { username: "newcomer", email: "newcomer@example.test", password: "a long enough passphrase" },
    });
    assertEquals([register.status, register.body.type], [503, UNAVAILABLE]);
  },
);
