import { assert, assertArrayIncludes, assertEquals } from "@std/assert";
import { and, eq } from "drizzle-orm";
import { auditLogs, rolePermissions, roles, userRoles } from "../db/schema.ts";
import { ALL_PERMISSIONS, BUILTIN_ROLES, PERMISSIONS } from "../services/permissions.ts";
import { appTest, type TestApp } from "./_fixtures.ts";

/** The distinct JSON pointers of a problem's field errors, sorted. */
const pointers = (res: { body: Record<string, unknown> }) =>
  [...new Set(((res.body.errors ?? []) as { pointer: string }[]).map((e) => e.pointer))].sort();

async function roleId(api: TestApp, name: string): Promise<number> {
  const [row] = await api.db.select({ id: roles.id }).from(roles).where(eq(roles.roleName, name));
  return row.id;
}

async function me(api: TestApp, token: string) {
  const res = await api.request("GET", "/me/", { token });
  assertEquals(res.status, 200);
  return res.body as { roles: string[]; permissions: string[] };
}

function changes(api: TestApp, table: string, outcome = "success") {
  return api.db.select().from(auditLogs)
    .where(
      and(eq(auditLogs.targetTable, table), eq(auditLogs.action, "permission_change"), eq(auditLogs.outcome, outcome)),
    )
    .orderBy(auditLogs.id);
}

async function snapshot(api: TestApp) {
  return {
    roles: await api.db.select().from(roles).orderBy(roles.id),
    permissions: await api.db.select().from(rolePermissions).orderBy(
      rolePermissions.roleId,
      rolePermissions.permission,
    ),
    assignments: await api.db.select().from(userRoles).orderBy(userRoles.id),
  };
}

appTest("GET /permissions/ publishes the fixed catalogue to any signed-in user", async (_t, api) => {
  assertEquals((await api.request("GET", "/permissions/")).status, 401);
  const res = await api.request("GET", "/permissions/", { token: (await api.signIn(await api.makePatient())).access });
  assertEquals(res.status, 200);
  const list = JSON.parse(res.text) as { code: string; description: string }[];
  assertEquals(list.map((p) => p.code), ALL_PERMISSIONS);
  assertEquals(list[0].description, PERMISSIONS[ALL_PERMISSIONS[0]]);
});

appTest("GET /roles/ and /roles/{id}/ are readable by any signed-in user, not anonymously", async (_t, api) => {
  const token = (await api.signIn(await api.makePatient())).access;
  assertEquals((await api.request("GET", "/roles/")).status, 401);
  const res = await api.request("GET", "/roles/?ordering=role_name", { token });
  assertEquals(res.status, 200);
  const list = res.body.results as { role_name: string; permissions: string[]; builtin: boolean }[];
  assertEquals(list.map((r) => r.role_name), ["admin", "doctor", "patient"]);
  assert(list.every((r) => r.builtin));
  assertEquals(list[2].permissions, [...BUILTIN_ROLES.patient.permissions].sort());
  const one = await api.request("GET", `/roles/${await roleId(api, "doctor")}/`, { token });
  assertEquals([one.status, one.body.role_name], [200, "doctor"]);
  assertEquals(Object.keys(one.body).sort(), ["builtin", "description", "id", "permissions", "role_name"]);
  assertEquals((await api.request("GET", "/roles/999999/", { token })).status, 404);
});

appTest("an admin-made role works at once: a user assigned `billing` gets payments:read", async (t, api) => {
  const admin = await api.makeAdmin();
  const clerk = await api.makeUser([]);
  const clerkToken = (await api.signIn(clerk)).access;
  const token = (await api.signIn(admin)).access;
  let billing = 0;
  await t.step("create the role", async () => {
    const res = await api.request("POST", "/roles/", {
      token,
      body: { role_name: "billing", description: "Billing desk", permissions: ["payments:refund", "payments:read"] },
    });
    assertEquals(res.status, 201, res.text);
    assertEquals([res.body.permissions, res.body.builtin], [["payments:read", "payments:refund"], false]);
    billing = res.body.id as number;
  });
  await t.step("assign it; the clerk's existing token carries it", async () => {
    assertEquals((await me(api, clerkToken)).permissions, []);
    const res = await api.request("POST", "/userroles/", { token, body: { user: clerk.id, role: billing } });
    assertEquals(res.status, 201, res.text);
    assertEquals([res.body.user, res.body.role], [clerk.id, billing]);
    const after = await me(api, clerkToken);
    assertEquals([after.roles, after.permissions], [["billing"], ["payments:read", "payments:refund"]]);
    const user = await api.request("GET", `/users/${clerk.id}/`, { token });
    assertEquals(user.body.roles, ["billing"]);
  });
  await t.step("change its permissions; the clerk sees the change on the next request", async () => {
    const res = await api.request("PATCH", `/roles/${billing}/`, { token, body: { permissions: ["payments:read"] } });
    assertEquals([res.status, res.body.permissions], [200, ["payments:read"]]);
    assertEquals((await me(api, clerkToken)).permissions, ["payments:read"]);
  });
  await t.step("every change is audited as permission_change", async () => {
    const roleEvents = await changes(api, "roles");
    assertEquals(roleEvents.map((e) => [e.userId, e.targetId]), [[admin.id, String(billing)], [
      admin.id,
      String(billing),
    ]]);
    assertEquals((roleEvents[1].details as { removed: string[] }).removed, ["payments:refund"]);
    const [assigned] = await changes(api, "user_roles");
    assertEquals((assigned.details as { user: number; role_name: string }).role_name, "billing");
    assertEquals((assigned.details as { user: number }).user, clerk.id);
  });
});

appTest(
  "role writes are refused to non-admins, unknown permissions, duplicates and read-only fields",
  async (t, api) => {
    const [patient, admin] = [await api.makePatient(), await api.makeAdmin()];
    const token = (await api.signIn(admin)).access;
    const before = await snapshot(api);
    const body = { role_name: "billing", permissions: ["payments:read"] };
    await t.step("anonymous 401; a patient 403 on every write, recorded as access_denied", async () => {
      assertEquals((await api.request("POST", "/roles/", { body })).status, 401);
      const patientToken = (await api.signIn(patient)).access;
      const id = await roleId(api, "patient");
      assertEquals((await api.request("POST", "/roles/", { token: patientToken, body })).status, 403);
      assertEquals((await api.request("PATCH", `/roles/${id}/`, { token: patientToken, body })).status, 403);
      assertEquals((await api.request("PUT", `/roles/${id}/`, { token: patientToken, body })).status, 403);
      assertEquals((await api.request("DELETE", `/roles/${id}/`, { token: patientToken })).status, 403);
      const denied = await api.db.select().from(auditLogs).where(eq(auditLogs.action, "access_denied"));
      assertEquals(denied.length, 4);
    });
    await t.step("a permission outside the catalogue is 422 at /permissions/N", async () => {
      const res = await api.request("POST", "/roles/", {
        token,
        body: { role_name: "billing", permissions: ["payments:read", "payments:steal", "root"] },
      });
      assertEquals([res.status, pointers(res)], [422, ["/permissions/1", "/permissions/2"]]);
    });
    await t.step("unknown and server-owned fields are 422", async () => {
      const res = await api.request("POST", "/roles/", { token, body: { ...body, id: 9, builtin: true, users: [] } });
      assertEquals([res.status, pointers(res)], [422, ["/builtin", "/id", "/users"]]);
    });
    await t.step("a malformed name is 422", async () => {
      for (const role_name of ["Billing", "b", "x".repeat(51), "bill ing"]) {
        const res = await api.request("POST", "/roles/", { token, body: { ...body, role_name } });
        assertEquals([res.status, pointers(res)], [422, ["/role_name"]], role_name);
      }
    });
    await t.step("a taken name is 409, on create and on rename", async () => {
      const res = await api.request("POST", "/roles/", { token, body: { ...body, role_name: "doctor" } });
      assertEquals([res.status, pointers(res)], [409, ["/role_name"]]);
    });
    assertEquals(await snapshot(api), before);
    const created = await api.request("POST", "/roles/", { token, body });
    assertEquals(created.status, 201);
    const rename = await api.request("PATCH", `/roles/${created.body.id}/`, { token, body: { role_name: "patient" } });
    assertEquals(rename.status, 409);
    // Every refused write is recorded once: the anonymous one, 6 the validator refused, 2 conflicts.
    assertEquals((await changes(api, "roles", "denied")).length, 9);
  },
);

appTest("built-in roles can be neither deleted nor renamed, but their permissions can change", async (t, api) => {
  const [doctor, admin] = [await api.makeDoctor(), await api.makeAdmin()];
  const token = (await api.signIn(admin)).access;
  const doctorToken = (await api.signIn(doctor)).access;
  const ids = { admin: await roleId(api, "admin"), doctor: await roleId(api, "doctor") };
  const before = await snapshot(api);
  await t.step("DELETE is 409", async () => {
    for (const id of Object.values(ids)) {
      const res = await api.request("DELETE", `/roles/${id}/`, { token });
      assertEquals([res.status, res.body.type], [409, "urn:problem-type:patient-portal:builtin-role"]);
    }
  });
  await t.step("a rename is 422 at /role_name; the same name is no rename", async () => {
    const res = await api.request("PATCH", `/roles/${ids.doctor}/`, { token, body: { role_name: "physician" } });
    assertEquals([res.status, pointers(res)], [422, ["/role_name"]]);
    const same = await api.request("PATCH", `/roles/${ids.doctor}/`, { token, body: { role_name: "doctor" } });
    assertEquals(same.status, 200);
  });
  assertEquals(await snapshot(api), before);
  await t.step("PUT replaces the doctor role's permissions; doctors get them on their next request", async () => {
    const res = await api.request("PUT", `/roles/${ids.doctor}/`, {
      token,
      body: { role_name: "doctor", description: "Doctors", permissions: ["patients:read", "messages:read"] },
    });
    assertEquals([res.status, res.body.permissions], [200, ["messages:read", "patients:read"]]);
    assertEquals((await me(api, doctorToken)).permissions, ["messages:read", "patients:read"]);
  });
});

appTest("DELETE /roles/{id}/ is 409 while the role is assigned, 204 once it is not", async (_t, api) => {
  const [admin, clerk] = [await api.makeAdmin(), await api.makeUser([])];
  const token = (await api.signIn(admin)).access;
  const created = await api.request("POST", "/roles/", { token, body: { role_name: "billing", permissions: [] } });
  const id = created.body.id as number;
  const assigned = await api.request("POST", "/userroles/", { token, body: { user: clerk.id, role: id } });
  const inUse = await api.request("DELETE", `/roles/${id}/`, { token });
  assertEquals([inUse.status, inUse.body.type], [409, "urn:problem-type:patient-portal:role-in-use"]);
  assertEquals((await api.db.select().from(roles).where(eq(roles.id, id))).length, 1);
  assertEquals((await api.request("DELETE", `/userroles/${assigned.body.id}/`, { token })).status, 204);
  assertEquals((await api.request("DELETE", `/roles/${id}/`, { token })).status, 204);
  assertEquals((await api.db.select().from(roles).where(eq(roles.id, id))).length, 0);
  assertEquals((await api.request("DELETE", `/roles/${id}/`, { token })).status, 404);
  const events = await changes(api, "roles");
  assertEquals((events.at(-1)!.details as { change: string; role_name: string }).change, "deleted");
});

appTest(
  "assigning admin to a patient takes effect on their next request; removing it takes it away",
  async (_t, api) => {
    const [patient, admin] = [await api.makePatient(), await api.makeAdmin()];
    const patientToken = (await api.signIn(patient)).access;
    const token = (await api.signIn(admin)).access;
    assertEquals((await api.request("GET", "/userroles/", { token: patientToken })).status, 403);
    const res = await api.request("POST", "/userroles/", {
      token,
      body: { user: patient.id, role: await roleId(api, "admin") },
    });
    assertEquals(res.status, 201);
    const elevated = await me(api, patientToken);
    assertEquals(elevated.roles, ["admin", "patient"]);
    assertArrayIncludes(elevated.permissions, ["users:read:any", "userroles:write"]);
    assertEquals((await api.request("GET", "/userroles/", { token: patientToken })).status, 200);
    assertEquals((await api.request("DELETE", `/userroles/${res.body.id}/`, { token })).status, 204);
    const back = await me(api, patientToken);
    assertEquals(back.roles, ["patient"]);
    assertEquals(back.permissions.includes("users:read:any"), false);
    assertEquals((await api.request("GET", "/userroles/", { token: patientToken })).status, 403);
    const events = await changes(api, "user_roles");
    assertEquals(events.map((e) => (e.details as { change: string }).change), ["assigned", "removed"]);
    assert(events.every((e) => e.targetId === String(res.body.id)));
  },
);

appTest("/userroles/ refuses non-admins, unknown references, duplicates and server-owned fields", async (t, api) => {
  const [patient, doctor, admin] = [await api.makePatient(), await api.makeDoctor(), await api.makeAdmin()];
  const token = (await api.signIn(admin)).access;
  const patientRole = await roleId(api, "patient");
  const before = await snapshot(api);
  await t.step("anonymous 401, patient and doctor 403, on reads and writes", async () => {
    assertEquals((await api.request("GET", "/userroles/")).status, 401);
    for (const who of [patient, doctor]) {
      const other = (await api.signIn(who)).access;
      assertEquals((await api.request("GET", "/userroles/", { token: other })).status, 403);
      assertEquals((await api.request("GET", "/userroles/1/", { token: other })).status, 403);
      const body = { user: who.id, role: await roleId(api, "admin") };
      assertEquals((await api.request("POST", "/userroles/", { token: other, body })).status, 403);
    }
  });
  await t.step("an unknown user or role is 422 with a pointer", async () => {
    const res = await api.request("POST", "/userroles/", { token, body: { user: 999999, role: 999999 } });
    assertEquals([res.status, pointers(res)], [422, ["/role", "/user"]]);
  });
  await t.step("a duplicate assignment is 409", async () => {
    const res = await api.request("POST", "/userroles/", { token, body: { user: patient.id, role: patientRole } });
    assertEquals(res.status, 409);
  });
  await t.step("assigned_at and id are server-owned: 422", async () => {
    const res = await api.request("POST", "/userroles/", {
      token,
      body: { user: doctor.id, role: patientRole, assigned_at: "2020-01-01T00:00:00Z", id: 1 },
    });
    assertEquals([res.status, pointers(res)], [422, ["/assigned_at", "/id"]]);
  });
  await t.step("a missing assignment is 404", async () => {
    assertEquals((await api.request("GET", "/userroles/999999/", { token })).status, 404);
    assertEquals((await api.request("DELETE", "/userroles/999999/", { token })).status, 404);
    assertEquals(
      (await api.request("PATCH", "/userroles/999999/", { token, body: { role: patientRole } })).status,
      404,
    );
  });
  assertEquals(await snapshot(api), before);
  // Unknown references, the duplicate, the server-owned fields (validator), the missing DELETE and PATCH.
  const denied = await changes(api, "user_roles", "denied");
  assertEquals(denied.length, 5);
});

appTest("GET /userroles/ filters by user and role and shows the contract fields", async (_t, api) => {
  const [alice, doctor, admin] = [await api.makePatient(), await api.makeDoctor(), await api.makeAdmin()];
  const token = (await api.signIn(admin)).access;
  const rows = async (query: string) => {
    const res = await api.request("GET", `/userroles/${query}`, { token });
    assertEquals(res.status, 200, res.text);
    return res.body.results as { id: number; user: number; role: number; assigned_at: string }[];
  };
  const mine = await rows(`?user=${alice.id}`);
  assertEquals(mine.map((r) => [r.user, r.role]), [[alice.id, await roleId(api, "patient")]]);
  assertEquals(Object.keys(mine[0]).sort(), ["assigned_at", "id", "role", "user"]);
  assertEquals((await rows(`?role=${await roleId(api, "doctor")}`)).map((r) => r.user), [doctor.id]);
  assertEquals((await rows("?ordering=-assigned_at&page_size=1")).length, 1);
  assertEquals((await api.request("GET", "/userroles/?user=abc", { token })).status, 400);
});

appTest("PUT and PATCH /userroles/{id}/ move an assignment to another role", async (_t, api) => {
  const [alice, admin] = [await api.makePatient(), await api.makeAdmin()];
  const token = (await api.signIn(admin)).access;
  const aliceToken = (await api.signIn(alice)).access;
  const [row] = await api.db.select().from(userRoles).where(eq(userRoles.userId, alice.id));
  const doctorRole = await roleId(api, "doctor");
  const res = await api.request("PATCH", `/userroles/${row.id}/`, { token, body: { role: doctorRole } });
  assertEquals([res.status, res.body.role, res.body.user], [200, doctorRole, alice.id]);
  assertEquals((await me(api, aliceToken)).roles, ["doctor"]);
  const put = await api.request("PUT", `/userroles/${row.id}/`, {
    token,
    body: { user: alice.id, role: row.roleId },
  });
  assertEquals(put.status, 200);
  assertEquals((await me(api, aliceToken)).roles, ["patient"]);
  const partial = await api.request("PUT", `/userroles/${row.id}/`, { token, body: { role: row.roleId } });
  assertEquals([partial.status, pointers(partial)], [422, ["/user"]]);
  const details = (await changes(api, "user_roles")).map((e) => e.details as { from: unknown; to: unknown });
  assertEquals(details[0].from, { user: alice.id, role: row.roleId });
  assertEquals(details[0].to, { user: alice.id, role: doctorRole });
});

appTest("no change may leave nobody able to assign roles", async (t, api) => {
  const admin = await api.makeAdmin();
  const token = (await api.signIn(admin)).access;
  const adminRole = await roleId(api, "admin");
  const [assignment] = await api.db.select().from(userRoles).where(eq(userRoles.userId, admin.id));
  const before = await snapshot(api);
  await t.step("removing the last admin's admin role is 409", async () => {
    assertEquals((await api.request("DELETE", `/userroles/${assignment.id}/`, { token })).status, 409);
  });
  await t.step("taking userroles:write from the only role that has it is 409", async () => {
    const res = await api.request("PATCH", `/roles/${adminRole}/`, { token, body: { permissions: ["roles:write"] } });
    assertEquals(res.status, 409);
  });
  assertEquals(await snapshot(api), before);
  await t.step("with a second admin, the first may step down", async () => {
    const other = await api.makeAdmin();
    assertEquals((await api.request("DELETE", `/userroles/${assignment.id}/`, { token })).status, 204);
    assertEquals((await api.request("GET", "/userroles/", { token })).status, 403);
    const otherToken = (await api.signIn(other)).access;
    assertEquals((await api.request("GET", "/userroles/", { token: otherToken })).status, 200);
  });
});
