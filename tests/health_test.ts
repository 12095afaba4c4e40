import { assertEquals } from "@std/assert";
import { appTest } from "./_fixtures.ts";

appTest("GET /health and GET /ready answer without a token", async (_t, api) => {
  const health = await api.request("GET", "/health");
  assertEquals([health.status, health.body.status], [200, "ok"]);
  const ready = await api.request("GET", "/ready");
  assertEquals([ready.status, ready.body.status], [200, "ready"]);
});

appTest("GET /ready is 503 while a committed migration has not been applied", async (_t, api) => {
  await api.database.ownerQuery(
    "delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations)",
  );
  const ready = await api.request("GET", "/ready");
  assertEquals([ready.status, ready.body.detail], [503, "database migrations are pending"]);
});
