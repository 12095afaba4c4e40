import { z } from "@hono/zod-openapi";
import { readinessProblem } from "../services/readiness.ts";
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
    const problem = await readinessProblem(c.get("deps"));
    return problem ? c.json({ status: "not ready", detail: problem }, 503) : c.json({ status: "ready" }, 200);
  });
  return app;
}
