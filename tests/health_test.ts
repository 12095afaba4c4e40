import { assertEquals } from "@std/assert";
import { appTest } from "./_fixtures.ts";

appTest("GET /health and GET /ready answer without a token", async (_t, api) => {
  const health = await api.request("GET", "/health");
  assertEquals([health.status, health.body.status], [200, "ok"]);
  const ready = await api.request("GET", "/ready");
  assertEquals([ready.status, ready.body.status], [200, "ready"]);
});
