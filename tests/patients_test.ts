import { assert, assertEquals } from "@std/assert";
import { and, eq } from "drizzle-orm";
import { auditLogs, patientProfiles } from "../db/schema.ts";
import { type Actor, appTest } from "./_fixtures.ts";

export { putUnderCare } from "./_care.ts";
import { putUnderCare } from "./_care.ts";

appTest("GET /patients/ lists only the rows in the caller's scope", async (t, api) => {
  const [alice, bob, carol] = [await api.makePatient(), await api.makePatient(), await api.makePatient()];
  const doctor = await api.makeDoctor();
  const admin = await api.makeAdmin();
  await putUnderCare(api, doctor, alice);
  await putUnderCare(api, doctor, carol, "cancelled");
  const ids = async (who: Actor) => {
    const res = await api.request("GET", "/patients/", { token: (await api.signIn(who)).access });
    assertEquals(res.status, 200);
    return (res.body.results as { id: number }[]).map((p) => p.id);
  };
  await t.step("a patient sees only themselves", async () => assertEquals(await ids(bob), [bob.id]));
  await t.step(
    "a doctor sees patients under care, not after a cancelled visit",
    async () => assertEquals(await ids(doctor), [alice.id]),
  );
  await t.step("an admin sees all", async () => assertEquals(await ids(admin), [alice.id, bob.id, carol.id]));
  const [row] = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.action, "list"), eq(auditLogs.userId, doctor.id)),
  );
  assertEquals([row.targetTable, row.patientIds, row.outcome], ["patient_profiles", [alice.id], "success"]);
});

appTest("GET /patients/{id}/ answers a row outside the scope exactly like a missing one", async (_t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makePatient()];
  const { access } = await api.signIn(alice);
  assertEquals((await api.request("GET", `/patients/${alice.id}/`, { token: access })).status, 200);
  const other = await api.request("GET", `/patients/${bob.id}/`, { token: access });
  const missing = await api.request("GET", "/patients/999999/", { token: access });
  const strip = (b: Record<string, unknown>) => ({ ...b, request_id: null });
  assertEquals([other.status, missing.status], [404, 404]);
  assertEquals(strip(other.body), strip(missing.body));
  const denied = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.outcome, "denied"), eq(auditLogs.targetTable, "patient_profiles")),
  );
  assertEquals(denied.map((d) => d.targetId).sort(), [String(bob.id), "999999"].sort());
});

appTest("PATCH /patients/{id}/ changes the caller's own profile only, and refuses unknown fields", async (_t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makePatient()];
  const doctor = await api.makeDoctor();
  await putUnderCare(api, doctor, alice);
  const mine = (await api.signIn(alice)).access;
  const ok = await api.request("PATCH", `/patients/${alice.id}/`, { token: mine, body: { address: "1 Main St" } });
  assertEquals([ok.status, ok.body.address], [200, "1 Main St"]);
  assertEquals(
    (await api.request("PATCH", `/patients/${bob.id}/`, { token: mine, body: { address: "x" } })).status,
    404,
  );
  const bad = await api.request("PATCH", `/patients/${alice.id}/`, {
    token: mine,
    body: { created_at: "2020-01-01T00:00:00Z", user: bob.id },
  });
  assertEquals(bad.status, 422);
  const docToken = (await api.signIn(doctor)).access;
  assertEquals(
    (await api.request("PATCH", `/patients/${alice.id}/`, { token: docToken, body: { address: "y" } })).status,
    403,
  );
  const res = await api.request("GET", `/patients/${alice.id}/`, { token: docToken });
  assertEquals(res.body.address, "1 Main St");
});

appTest("GET /patients/ pages with cursors, both ways, in every ordering", async (_t, api) => {
  const admin = await api.makeAdmin();
  for (let i = 0; i < 7; i++) await api.makePatient();
  const token = (await api.signIn(admin)).access;
  for (const ordering of ["id", "-id", "last_name", "-created_at"]) {
    const seen: number[] = [];
    let url: string | null = `/patients/?page_size=3&ordering=${ordering}`;
    let last: Record<string, unknown> = {};
    while (url) {
      const res = await api.request("GET", url.replace(/^https?:\/\/[^/]+/, ""), { token });
      assertEquals(res.status, 200, url);
      seen.push(...(res.body.results as { id: number }[]).map((p) => p.id));
      last = res.body;
      url = res.body.next as string | null;
    }
    assertEquals(new Set(seen).size, 7, ordering);
    assert(last.previous, "the last page links back");
    const back = await api.request("GET", (last.previous as string).replace(/^https?:\/\/[^/]+/, ""), { token });
    assertEquals((back.body.results as { id: number }[]).map((p) => p.id), seen.slice(3, 6), ordering);
  }
  assertEquals((await api.request("GET", "/patients/?cursor=garbage", { token })).status, 400);
  assertEquals((await api.request("GET", "/patients/?page_size=201", { token })).status, 400);
  assertEquals((await api.request("GET", "/patients/?ordering=password", { token })).status, 400);
});

appTest("a patient whose profile is missing creates their own once, and nobody else's", async (t, api) => {
  const [newcomer, other] = [await api.makePatient(), await api.makePatient()];
  await api.db.delete(patientProfiles).where(eq(patientProfiles.userId, newcomer.id));
  const token = (await api.signIn(newcomer)).access;
  const profiles = async () =>
    (await api.db.select().from(patientProfiles).where(eq(patientProfiles.userId, newcomer.id))).length;
  await t.step("another user's id is 422 at /user and creates nothing", async () => {
    const res = await api.request("POST", "/patients/", { token, body: { user: other.id, first_name: "X" } });
    const pointers = (res.body.errors as { pointer: string }[] | undefined)?.map((e) => e.pointer);
    assertEquals([res.status, pointers], [422, ["/user"]], res.text);
    assertEquals(await profiles(), 0);
  });
  await t.step("their own (user omitted) is 201, a second one 409", async () => {
    const created = await api.request("POST", "/patients/", { token, body: { first_name: "Nora" } });
    assertEquals([created.status, created.body.user, created.body.first_name], [201, newcomer.id, "Nora"]);
    const again = await api.request("POST", "/patients/", { token, body: { user: newcomer.id } });
    assertEquals(again.status, 409);
    assertEquals(await profiles(), 1);
  });
});
