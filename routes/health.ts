import { z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { committedMigrationCount, queryRows } from "../db/client.ts";
import { declareRoute, jsonResponse, newRouter } from "./_route.ts";

const Status = z.object({ status: z.string(), detail: z.string().optional() }).openapi("Status");

const health = declareRoute({
  method: "get",
  path: "/health",
  operationId: "health",
  tags: ["ops"],
  summary: "The process is up",
  access: { kind: "public", reason: "liveness probes carry no credentials" },
  responses: { 200: jsonResponse("Up", Status) },
});

const ready = declareRoute({
  method: "get",
  path: "/ready",
  operationId: "ready",
  tags: ["ops"],
  summary: "The database answers and its migrations are current",
  access: { kind: "public", reason: "readiness probes carry no credentials" },
  responses: { 200: jsonResponse("Ready", Status), 503: jsonResponse("Not ready", Status) },
});

export function healthRoutes() {
  const app = newRouter();
  app.openapi(health, (c) => c.json({ status: "ok" }, 200));
  app.openapi(ready, async (c) => {
    try {
      const rows = await queryRows<{ applied: number }>(
        c.get("deps").db,
        sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
      );
      const committed = await committedMigrationCount();
      if (Number(rows[0].applied) < committed) {
        return c.json({ status: "not ready", detail: "database migrations are pending" }, 503);
      }
      return c.json({ status: "ready" }, 200);
    } catch {
      return c.json({ status: "not ready", detail: "the database does not answer" }, 503);
    }
  });
  return app;
}
