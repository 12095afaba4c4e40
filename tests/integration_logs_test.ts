/** GET/POST /integrationlogs/: written by the system, read and appended by administrators, never edited. */
import { assert, assertEquals } from "@std/assert";
import { integrationLogs } from "../db/schema.ts";
import { appTest } from "./_fixtures.ts";

async function seed(api: Parameters<Parameters<typeof appTest>[1]>[1], n: number, systemName: string, status: string) {
  const base = new Date("2031-03-01T00:00:00Z").getTime();
  for (let i = 0; i < n; i++) {
    await api.db.insert(integrationLogs).values({
      systemName,
      dataType: "payment_intent.create",
      dataReference: `payment:${i}`,
      syncStatus: status,
      latencyMs: 10 + i,
      createdAt: new Date(base + i * 60_000),
    });
  }
}

appTest("administrators list integration logs newest first, filtered and keyset-paginated", async (t, api) => {
  const admin = (await api.signIn(await api.makeAdmin())).access;
  await seed(api, 5, "stripe", "success");
  await seed(api, 3, "mpesa", "failed");
  await t.step("filters: system_name and sync_status", async () => {
    const res = await api.request("GET", "/integrationlogs/?system_name=mpesa&sync_status=failed", { token: admin });
    assertEquals(res.status, 200);
    const rows = res.body.results as Record<string, unknown>[];
    assertEquals(rows.length, 3);
    assertEquals(Object.keys(rows[0]).sort(), [
      "appended_by",
      "attempt",
      "created_at",
      "data_reference",
      "data_type",
      "detail",
      "id",
      "latency_ms",
      "sync_status",
      "system_name",
    ]);
  });
  await t.step("from and to bound created_at", async () => {
    const q = "from=2031-03-01T00:01:00Z&to=2031-03-01T00:03:00Z&system_name=stripe";
    const res = await api.request("GET", `/integrationlogs/?${q}`, { token: admin });
    assertEquals((res.body.results as { data_reference: string }[]).map((r) => r.data_reference), [
      "payment:2",
      "payment:1",
    ]);
  });
  await t.step("pages of 3 walk every row once, newest first", async () => {
    const seen: number[] = [];
    let url: string | null = "/integrationlogs/?page_size=3";
    while (url) {
      const res = await api.request("GET", url.replace(/^https?:\/\/[^/]+/, ""), { token: admin });
      seen.push(...(res.body.results as { id: number }[]).map((r) => r.id));
      url = res.body.next as string | null;
    }
    assertEquals(seen.length, 8);
    assertEquals(new Set(seen).size, 8);
  });
  await t.step("one entry by id; a missing one is 404", async () => {
    const [first] = await api.db.select().from(integrationLogs).limit(1);
    assertEquals((await api.request("GET", `/integrationlogs/${first.id}/`, { token: admin })).body.id, first.id);
    assertEquals((await api.request("GET", "/integrationlogs/999999/", { token: admin })).status, 404);
  });
});

appTest("an administrator appends an entry (kept with appended_by); nobody edits or deletes one", async (_t, api) => {
  const adminUser = await api.makeAdmin();
  const admin = (await api.signIn(adminUser)).access;
  const body = {
    system_name: "lab-gateway",
    data_type: "hl7.result",
    data_reference: "batch-7",
    sync_status: "failed",
  };
  const res = await api.request("POST", "/integrationlogs/", { token: admin, body });
  assertEquals(res.status, 201, res.text);
  assertEquals([res.body.appended_by, res.body.system_name, res.body.attempt], [adminUser.id, "lab-gateway", 1]);
  assertEquals(
    (await api.request("POST", "/integrationlogs/", { token: admin, body: { ...body, extra: 1 } })).status,
    422,
  );
  for (const method of ["PUT", "PATCH", "DELETE"]) {
    const answer = await api.request(method, `/integrationlogs/${res.body.id}/`, { token: admin, body: {} });
    assertEquals(answer.status, 405, method);
  }
  const patient = (await api.signIn(await api.makePatient())).access;
  assertEquals((await api.request("GET", "/integrationlogs/", { token: patient })).status, 403);
  assertEquals((await api.request("POST", "/integrationlogs/", { token: patient, body })).status, 403);
  const rows = await api.db.select().from(integrationLogs);
  assertEquals(rows.length, 1);
  assert(rows[0].appendedBy === adminUser.id);
});
