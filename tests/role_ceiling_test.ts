/**
 * Role delegation has a ceiling: nobody grants a permission they do not hold, only holders of
 * `admin` manage the `admin` role, and `admin` keeps every permission, at run time too.
 */
import { assertEquals } from "@std/assert";
import { and, eq } from "drizzle-orm";
import { auditLogs, rolePermissions, roles, userRoles } from "../db/schema.ts";
import { ALL_PERMISSIONS, type Permission } from "../services/permissions.ts";
import { type Actor, appTest, type TestApp } from "./_fixtures.ts";

async function roleId(api: TestApp, name: string): Promise<number> {
  const [row] = await api.db.select({ id: roles.id }).from(roles).where(eq(roles.roleName, name));
  return row.id;
}

/** A user whose only role holds `permissions` (made directly, as an administrator would have). */
async function delegate(api: TestApp, name: string, permissions: Permission[]): Promise<Actor & { role: number }> {
  const user = await api.makeUser([]);
  const [role] = await api.db.insert(roles).values({ roleName: name }).returning();
  await api.db.insert(rolePermissions).values(permissions.map((permission) => ({ roleId: role.id, permission })));
  await api.db.insert(userRoles).values({ userId: user.id, roleId: role.id });
  return { ...user, role: role.id };
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

const PROBLEM = "urn:problem-type:patient-portal:";

appTest("a holder of roles:write cannot grant a role permissions they do not hold", async (t, api) => {
  await api.makeAdmin(); // someone able to assign roles, so trimming the doctor role is allowed
  const manager = await delegate(api, "role-manager", ["roles:write", "userroles:read", "messages:read"]);
  const token = (await api.signIn(manager)).access;
  const before = await snapshot(api);
  await t.step("creating a role above the ceiling is 403", async () => {
    const res = await api.request("POST", "/roles/", {
      token,
      body: { role_name: "escalated", permissions: ["messages:read", "auditlogs:read"] },
    });
    assertEquals([res.status, res.body.type], [403, `${PROBLEM}permission-ceiling`]);
  });
  await t.step("giving their own role every permission is 403", async () => {
    const res = await api.request("PATCH", `/roles/${manager.role}/`, {
      token,
      body: { permissions: ALL_PERMISSIONS },
    });
    assertEquals([res.status, res.body.type], [403, `${PROBLEM}permission-ceiling`]);
  });
  await t.step("changing the admin role at all is 403", async () => {
    const res = await api.request("PATCH", `/roles/${await roleId(api, "admin")}/`, {
      token,
      body: { description: "mine now" },
    });
    assertEquals([res.status, res.body.type], [403, `${PROBLEM}admin-role`]);
  });
  assertEquals(await snapshot(api), before);
  await t.step("within the ceiling it works, and removing what they do not hold is no grant", async () => {
    const created = await api.request("POST", "/roles/", {
      token,
      body: { role_name: "readers", permissions: ["messages:read"] },
    });
    assertEquals(created.status, 201, created.text);
    const doctorRole = await roleId(api, "doctor");
    const trimmed = await api.request("PATCH", `/roles/${doctorRole}/`, {
      token,
      body: { permissions: ["messages:read", "patients:read"] },
    });
    assertEquals(trimmed.status, 200, trimmed.text);
  });
  const refusals = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.userId, manager.id), eq(auditLogs.outcome, "denied")),
  );
  assertEquals(refusals.map((r) => (r.details as { reason: string }).reason), [
    "permission-ceiling",
    "permission-ceiling",
    "admin-role",
  ]);
});

appTest("a holder of userroles:write cannot assign a role above their own, nor touch admin", async (t, api) => {
  const assigner = await delegate(api, "assigner", ["userroles:write", "userroles:read", "messages:read"]);
  const token = (await api.signIn(assigner)).access;
  const patient = await api.makePatient();
  const admin = await api.makeAdmin();
  const [adminAssignment] = await api.db.select().from(userRoles).where(eq(userRoles.userId, admin.id));
  const [small] = await api.db.insert(roles).values({ roleName: "small" }).returning();
  await api.db.insert(rolePermissions).values({ roleId: small.id, permission: "messages:read" });
  const before = await snapshot(api);
  for (
    const [name, body, type] of [
      ["admin to themselves", { user: assigner.id, role: await roleId(api, "admin") }, "admin-role"],
      ["admin to someone else", { user: patient.id, role: await roleId(api, "admin") }, "admin-role"],
      [
        "the doctor role, whose permissions they lack",
        { user: patient.id, role: await roleId(api, "doctor") },
        "permission-ceiling",
      ],
    ] as const
  ) {
    await t.step(name, async () => {
      const res = await api.request("POST", "/userroles/", { token, body });
      assertEquals([res.status, res.body.type], [403, `${PROBLEM}${type}`]);
    });
  }
  await t.step("removing or moving someone's admin assignment", async () => {
    const removed = await api.request("DELETE", `/userroles/${adminAssignment.id}/`, { token });
    assertEquals([removed.status, removed.body.type], [403, `${PROBLEM}admin-role`]);
    const moved = await api.request("PATCH", `/userroles/${adminAssignment.id}/`, { token, body: { role: small.id } });
    assertEquals([moved.status, moved.body.type], [403, `${PROBLEM}admin-role`]);
  });
  assertEquals(await snapshot(api), before);
  await t.step("a role within their own permissions can be assigned", async () => {
    const res = await api.request("POST", "/userroles/", { token, body: { user: patient.id, role: small.id } });
    assertEquals(res.status, 201, res.text);
  });
});

appTest(
  "the admin role keeps every permission: no change removes one, and at run time it has them all",
  async (t, api) => {
    const admin = await api.makeAdmin();
    const token = (await api.signIn(admin)).access;
    const adminRole = await roleId(api, "admin");
    await t.step("an administrator removing a permission from admin is refused", async () => {
      const res = await api.request("PATCH", `/roles/${adminRole}/`, {
        token,
        body: { permissions: ALL_PERMISSIONS.filter((p) => p !== "auditlogs:read") },
      });
      assertEquals([res.status, res.body.type], [409, `${PROBLEM}admin-role`]);
      const [row] = await api.db.select().from(rolePermissions).where(
        and(eq(rolePermissions.roleId, adminRole), eq(rolePermissions.permission, "auditlogs:read")),
      );
      assertEquals(row?.permission, "auditlogs:read");
    });
    await t.step("a permission row taken away behind the API's back still holds at run time", async () => {
      await api.database.ownerQuery(
        `delete from role_permissions where role_id = ${adminRole} and permission = 'auditlogs:read'`,
      );
      const me = await api.request("GET", "/me/", { token });
      assertEquals((me.body.permissions as string[]).length, ALL_PERMISSIONS.length);
      assertEquals((await api.request("GET", "/auditlogs/", { token })).status, 200);
    });
    await t.step("an administrator may still grant anything (they hold everything)", async () => {
      const res = await api.request("POST", "/roles/", {
        token,
        body: { role_name: "auditors", permissions: ["auditlogs:read", "auditlogs:write"] },
      });
      assertEquals(res.status, 201, res.text);
    });
  },
);
