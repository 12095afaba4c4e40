import { assert, assertEquals } from "@std/assert";
import { and, eq } from "drizzle-orm";
import { appointments, auditLogs, sessions, users } from "../db/schema.ts";
import { type Actor, appTest, type TestApp } from "./_fixtures.ts";

const NEW_PASSWORD = "Correct-h0rse-battery";
const strip = (b: Record<string, unknown>) => ({ ...b, request_id: null });

async function userRow(api: TestApp, id: number) {
  const [row] = await api.db.select().from(users).where(eq(users.id, id));
  return row;
}

function userAudits(api: TestApp, outcome = "success") {
  return api.db.select().from(auditLogs).where(and(eq(auditLogs.targetTable, "users"), eq(auditLogs.outcome, outcome)))
    .orderBy(auditLogs.id);
}

appTest("GET /users/ lists every account for an admin and only the caller's own for anyone else", async (t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makePatient()];
  const doctor = await api.makeDoctor();
  const admin = await api.makeAdmin();
  const ids = async (who: Actor, query = "") => {
    const res = await api.request("GET", `/users/${query}`, { token: (await api.signIn(who)).access });
    assertEquals(res.status, 200, res.text);
    return (res.body.results as { id: number }[]).map((u) => u.id);
  };
  await t.step("a patient sees only themselves", async () => assertEquals(await ids(alice), [alice.id]));
  await t.step("a doctor sees only themselves", async () => assertEquals(await ids(doctor), [doctor.id]));
  await t.step("filters cannot widen a non-admin's list", async () => {
    assertEquals(await ids(bob, "?role=patient"), [bob.id]);
    assertEquals(await ids(bob, "?role=admin"), []);
  });
  await t.step("an admin sees all, and filters by role and status", async () => {
    assertEquals(await ids(admin), [alice.id, bob.id, doctor.id, admin.id]);
    assertEquals(await ids(admin, "?role=patient"), [alice.id, bob.id]);
    await api.setStatus(bob, "suspended");
    assertEquals(await ids(admin, "?account_status=suspended"), [bob.id]);
    assertEquals(await ids(admin, "?account_status=active&role=patient"), [alice.id]);
  });
  await t.step("anonymous callers get 401", async () => {
    assertEquals((await api.request("GET", "/users/")).status, 401);
    assertEquals((await api.request("GET", `/users/${alice.id}/`)).status, 401);
  });
  await t.step("bad filters are 400", async () => {
    const token = (await api.signIn(admin)).access;
    assertEquals((await api.request("GET", "/users/?account_status=gone", { token })).status, 400);
    assertEquals((await api.request("GET", "/users/?ordering=password_hash", { token })).status, 400);
  });
});

appTest("GET /users/ pages with cursors, both ways, in every ordering", async (_t, api) => {
  const admin = await api.makeAdmin();
  for (let i = 0; i < 6; i++) await api.makePatient();
  const token = (await api.signIn(admin)).access;
  for (const ordering of ["id", "-id", "username", "-username", "created_at", "-created_at"]) {
    const seen: number[] = [];
    let url: string | null = `/users/?page_size=3&ordering=${ordering}`;
    let last: Record<string, unknown> = {};
    while (url) {
      const res = await api.request("GET", url.replace(/^https?:\/\/[^/]+/, ""), { token });
      assertEquals(res.status, 200, url);
      seen.push(...(res.body.results as { id: number }[]).map((u) => u.id));
      last = res.body;
      url = res.body.next as string | null;
    }
    assertEquals([seen.length, new Set(seen).size], [7, 7], ordering);
    const back = await api.request("GET", (last.previous as string).replace(/^https?:\/\/[^/]+/, ""), { token });
    assertEquals((back.body.results as { id: number }[]).map((u) => u.id), seen.slice(3, 6), ordering);
  }
});

appTest("GET /users/{id}/ shows the contract fields, never the password, and roles by name", async (_t, api) => {
  const alice = await api.makePatient();
  const admin = await api.makeAdmin();
  for (const who of [alice, admin]) {
    const res = await api.request("GET", `/users/${alice.id}/`, { token: (await api.signIn(who)).access });
    assertEquals(res.status, 200);
    assertEquals(Object.keys(res.body).sort(), [
      "account_status",
      "created_at",
      "email",
      "id",
      "last_login",
      "phone",
      "roles",
      "updated_at",
      "username",
    ]);
    assertEquals([res.body.id, res.body.username, res.body.roles], [alice.id, alice.username, ["patient"]]);
    assert(!res.text.includes("argon2"), "no password hash in the body");
  }
});

appTest("GET /users/{id}/ answers another user's account exactly like a missing one", async (_t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makeDoctor()];
  const token = (await api.signIn(alice)).access;
  const other = await api.request("GET", `/users/${bob.id}/`, { token });
  const missing = await api.request("GET", "/users/999999/", { token });
  assertEquals([other.status, missing.status], [404, 404]);
  assertEquals(strip(other.body), strip(missing.body));
  const bobToken = (await api.signIn(bob)).access;
  assertEquals((await api.request("GET", `/users/${alice.id}`, { token: bobToken })).status, 404);
});

appTest("POST /users/ lets an admin create an account, with no role until one is assigned", async (_t, api) => {
  const admin = await api.makeAdmin();
  const token = (await api.signIn(admin)).access;
  const res = await api.request("POST", "/users/", {
    token,
    body: { username: "frontdesk", email: "Desk@Example.test", password: NEW_PASSWORD, phone: "+1 555 0100" },
  });
  assertEquals(res.status, 201, res.text);
  assertEquals([res.body.username, res.body.email, res.body.roles, res.body.account_status], [
    "frontdesk",
    "desk@example.test",
    [],
    "active",
  ]);
  assert(!("password" in res.body));
  const signIn = await api.request("POST", "/token/", { body: { username: "frontdesk", password: NEW_PASSWORD } });
  assertEquals(signIn.status, 200);
  const [event] = (await userAudits(api)).filter((a) => a.action === "create");
  assertEquals([event.userId, event.targetId], [admin.id, String(res.body.id)]);
});

appTest("POST /users/ is refused to non-admins, duplicates, server-owned fields and weak passwords", async (t, api) => {
  const alice = await api.makePatient();
  const admin = await api.makeAdmin();
  const adminToken = (await api.signIn(admin)).access;
  const count = async () => (await api.db.select().from(users)).length;
  const before = await count();
  const body = { username: "newbie", email: "newbie@example.test", password: NEW_PASSWORD };
  await t.step("anonymous 401, patient 403", async () => {
    assertEquals((await api.request("POST", "/users/", { body })).status, 401);
    const res = await api.request("POST", "/users/", { body, token: (await api.signIn(alice)).access });
    assertEquals(res.status, 403);
  });
  await t.step("a taken username or email (any case) is 409", async () => {
    for (const dup of [{ username: alice.username.toUpperCase() }, { email: alice.email.toUpperCase() }]) {
      const res = await api.request("POST", "/users/", { token: adminToken, body: { ...body, ...dup } });
      assertEquals(res.status, 409, JSON.stringify(dup));
    }
  });
  await t.step("server-owned and unknown fields are 422 with pointers", async () => {
    const res = await api.request("POST", "/users/", {
      token: adminToken,
      body: { ...body, id: 7, roles: ["admin"], created_at: "2020-01-01T00:00:00Z", is_staff: true },
    });
    assertEquals(res.status, 422);
    const pointers = (res.body.errors as { pointer: string }[]).map((e) => e.pointer).sort();
    assertEquals(pointers, ["/created_at", "/id", "/is_staff", "/roles"]);
  });
  await t.step("a weak password is 422 at /password", async () => {
    const res = await api.request("POST", "/users/", { token: adminToken, body: { ...body, password: "password" } });
    assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [422, "/password"]);
  });
  assertEquals(await count(), before);
});

appTest("PATCH /users/{id}/ lets a user change their own email and phone, nothing else", async (t, api) => {
  const alice = await api.makePatient();
  const token = (await api.signIn(alice)).access;
  await t.step("email and phone", async () => {
    const res = await api.request("PATCH", `/users/${alice.id}/`, {
      token,
      body: { email: "Alice.New@Example.test", phone: "+44 20 7946 0000", current_password: alice.password },
    });
    assertEquals(res.status, 200, res.text);
    assertEquals([res.body.email, res.body.phone], ["alice.new@example.test", "+44 20 7946 0000"]);
  });
  const snapshot = await userRow(api, alice.id);
  await t.step("username and account status are for administrators: 422", async () => {
    for (const [field, value] of [["username", "alice2"], ["account_status", "deactivated"]]) {
      const res = await api.request("PATCH", `/users/${alice.id}/`, { token, body: { [field]: value } });
      assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [422, `/${field}`]);
    }
  });
  await t.step("roles, ids and timestamps are 422", async () => {
    for (const field of ["roles", "id", "created_at", "updated_at", "last_login", "password_hash"]) {
      const res = await api.request("PATCH", `/users/${alice.id}/`, { token, body: { [field]: null } });
      assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [422, `/${field}`]);
    }
  });
  await t.step("too long or malformed values are 422", async () => {
    for (const body of [{ email: "not-an-email" }, { phone: "1".repeat(33) }, { phone: "call me" }]) {
      assertEquals((await api.request("PATCH", `/users/${alice.id}/`, { token, body })).status, 422);
    }
  });
  assertEquals(await userRow(api, alice.id), snapshot);
});

appTest("PUT /users/{id}/ needs email and phone; another user's id is 404 and changes nothing", async (_t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makePatient()];
  const token = (await api.signIn(alice)).access;
  const partial = await api.request("PUT", `/users/${alice.id}/`, { token, body: { email: "a@example.test" } });
  assertEquals([partial.status, (partial.body.errors as { pointer: string }[])[0].pointer], [422, "/phone"]);
  const ok = await api.request("PUT", `/users/${alice.id}/`, {
    token,
    body: { email: "a@example.test", phone: null, current_password: alice.password },
  });
  assertEquals([ok.status, ok.body.phone], [200, null]);
  const bobBefore = await userRow(api, bob.id);
  const body = { email: "stolen@example.test", phone: null };
  const other = await api.request("PUT", `/users/${bob.id}/`, { token, body });
  const missing = await api.request("PUT", "/users/999999/", { token, body });
  assertEquals([other.status, missing.status], [404, 404]);
  assertEquals(strip(other.body), strip(missing.body));
  const patch = await api.request("PATCH", `/users/${bob.id}/`, { token, body: { password: NEW_PASSWORD } });
  assertEquals(patch.status, 404);
  assertEquals(await userRow(api, bob.id), bobBefore);
  const denied = await userAudits(api, "denied");
  assertEquals(denied.map((d) => d.targetId), [String(alice.id), String(bob.id), "999999", String(bob.id)]);
});

appTest("PATCH /users/{id}/ with a taken email is 409 and changes nothing", async (_t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makePatient()];
  const token = (await api.signIn(alice)).access;
  const snapshot = await userRow(api, alice.id);
  const res = await api.request("PATCH", `/users/${alice.id}/`, {
    token,
    body: { email: bob.email.toUpperCase(), current_password: alice.password },
  });
  assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [409, "/email"]);
  assertEquals(await userRow(api, alice.id), snapshot);
});

appTest("a password change needs the current password and ends the user's other sessions", async (t, api) => {
  const alice = await api.makePatient();
  const laptop = await api.signIn(alice);
  const phone = await api.signIn(alice);
  const path = `/users/${alice.id}/`;
  const hashBefore = (await userRow(api, alice.id)).passwordHash;
  const pointerOf = (res: { body: Record<string, unknown> }) => (res.body.errors as { pointer: string }[])[0].pointer;
  await t.step("without current_password: 422 at /current_password", async () => {
    const res = await api.request("PATCH", path, { token: laptop.access, body: { password: NEW_PASSWORD } });
    assertEquals([res.status, pointerOf(res)], [422, "/current_password"]);
  });
  await t.step("with a wrong current_password: 422 at /current_password", async () => {
    const res = await api.request("PATCH", path, {
      token: laptop.access,
      body: { password: NEW_PASSWORD, current_password: "wrong-password-1" },
    });
    assertEquals([res.status, pointerOf(res)], [422, "/current_password"]);
  });
  await t.step("a new password that fails the policy: 422 at /password", async () => {
    for (const weak of ["short", "password123", `${alice.username}-secret`]) {
      const res = await api.request("PATCH", path, {
        token: laptop.access,
        body: { password: weak, current_password: alice.password },
      });
      assertEquals([res.status, pointerOf(res)], [422, "/password"], weak);
    }
  });
  await t.step("current_password alone is 422", async () => {
    const res = await api.request("PATCH", path, { token: laptop.access, body: { current_password: alice.password } });
    assertEquals([res.status, pointerOf(res)], [422, "/current_password"]);
  });
  assertEquals((await userRow(api, alice.id)).passwordHash, hashBefore);
  assertEquals((await api.request("GET", "/me/", { token: phone.access })).status, 200);
  await t.step("success: other sessions end, this one stays", async () => {
    const res = await api.request("PATCH", path, {
      token: laptop.access,
      body: { password: NEW_PASSWORD, current_password: alice.password },
    });
    assertEquals(res.status, 200, res.text);
    assertEquals((await api.request("GET", "/me/", { token: laptop.access })).status, 200);
    assertEquals((await api.request("GET", "/me/", { token: phone.access })).status, 401);
    assertEquals((await api.request("POST", "/token/refresh/", { body: { refresh: phone.refresh } })).status, 401);
    assertEquals((await api.request("POST", "/token/refresh/", { body: { refresh: laptop.refresh } })).status, 200);
  });
  await t.step("only the new password signs in", async () => {
    const old = await api.request("POST", "/token/", { body: { username: alice.username, password: alice.password } });
    const fresh = await api.request("POST", "/token/", { body: { username: alice.username, password: NEW_PASSWORD } });
    assertEquals([old.status, fresh.status], [401, 200]);
  });
  const events = (await userAudits(api)).filter((e) => e.action === "update");
  assertEquals(events.length, 1);
  assertEquals([events[0].action, events[0].userId, events[0].targetId], ["update", alice.id, String(alice.id)]);
  assertEquals((events[0].details as { password: string }).password, "changed");
  assert(!JSON.stringify(events[0].details).includes(NEW_PASSWORD), "no password in the audit trail");
  const denied = (await userAudits(api, "denied")).filter((d) => d.action === "update");
  assertEquals(denied.length, 6);
  assert(denied.every((d) => !JSON.stringify(d.details).includes(alice.password)));
});

appTest(
  "wrong current passwords are throttled with 429",
  async (_t, api) => {
    const alice = await api.makePatient();
    let token = (await api.signIn(alice)).access;
    const attempt = (current: string) =>
      api.request("PATCH", `/users/${alice.id}/`, {
        token,
        body: { password: NEW_PASSWORD, current_password: current },
      });
    assertEquals((await attempt("wrong-guess-01")).status, 422);
    assertEquals((await attempt("wrong-guess-02")).status, 422);
    const limited = await attempt(alice.password);
    assertEquals(limited.status, 429);
    assert(limited.headers.get("retry-after"));
    api.clock.advance(901);
    token = (await api.signIn(alice)).access;
    assertEquals((await attempt(alice.password)).status, 200);
  },
  { env: { RATE_LIMIT_LOGIN_PER_USER: "2" } },
);

appTest("an admin sets another user's password without theirs, ending all their sessions", async (_t, api) => {
  const [alice, admin] = [await api.makePatient(), await api.makeAdmin()];
  const aliceToken = (await api.signIn(alice)).access;
  const res = await api.request("PATCH", `/users/${alice.id}/`, {
    token: (await api.signIn(admin)).access,
    body: { password: NEW_PASSWORD },
  });
  assertEquals(res.status, 200, res.text);
  assertEquals((await api.request("GET", "/me/", { token: aliceToken })).status, 401);
  const fresh = await api.request("POST", "/token/", { body: { username: alice.username, password: NEW_PASSWORD } });
  assertEquals(fresh.status, 200);
});

appTest("an admin's own password change also needs current_password", async (_t, api) => {
  const admin = await api.makeAdmin();
  const token = (await api.signIn(admin)).access;
  const res = await api.request("PATCH", `/users/${admin.id}/`, { token, body: { password: NEW_PASSWORD } });
  assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [422, "/current_password"]);
});

appTest("suspending an account ends all its sessions: its access token is refused at once", async (t, api) => {
  const [alice, admin] = [await api.makePatient(), await api.makeAdmin()];
  const aliceTokens = await api.signIn(alice);
  const adminToken = (await api.signIn(admin)).access;
  await t.step("an admin suspends", async () => {
    const res = await api.request("PATCH", `/users/${alice.id}/`, {
      token: adminToken,
      body: { account_status: "suspended" },
    });
    assertEquals([res.status, res.body.account_status], [200, "suspended"]);
  });
  await t.step("the access and refresh tokens are refused", async () => {
    assertEquals((await api.request("GET", "/me/", { token: aliceTokens.access })).status, 401);
    const refresh = await api.request("POST", "/token/refresh/", { body: { refresh: aliceTokens.refresh } });
    assertEquals(refresh.status, 401);
    const live = await api.db.select().from(sessions).where(eq(sessions.userId, alice.id));
    assertEquals(live.map((s) => s.revokedReason), ["account_suspended"]);
  });
  await t.step("the change is audited", async () => {
    const [event] = await userAudits(api);
    assertEquals([event.action, event.userId, event.targetId], ["update", admin.id, String(alice.id)]);
    const details = event.details as { account_status: unknown; sessions: string };
    assertEquals([details.account_status, details.sessions], [{ from: "active", to: "suspended" }, "revoked"]);
  });
  await t.step("reactivated, the user signs in again", async () => {
    const res = await api.request("PATCH", `/users/${alice.id}/`, {
      token: adminToken,
      body: { account_status: "active" },
    });
    assertEquals(res.status, 200);
    await api.signIn(alice);
  });
  await t.step("an admin cannot change their own status", async () => {
    const res = await api.request("PATCH", `/users/${admin.id}/`, {
      token: adminToken,
      body: { account_status: "suspended" },
    });
    assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [422, "/account_status"]);
    assertEquals((await userRow(api, admin.id)).accountStatus, "active");
  });
});

appTest("DELETE /users/{id}/ deactivates the account, keeping it and its records", async (t, api) => {
  const [alice, doctor, admin] = [await api.makePatient(), await api.makeDoctor(), await api.makeAdmin()];
  // A row that refers to the patient (importing putUnderCare would also run the patients suite here).
  const start = new Date(Date.now() + 86400_000);
  await api.db.insert(appointments).values({
    patientId: alice.id,
    doctorId: doctor.id,
    appointmentDate: start,
    endsAt: new Date(start.getTime() + 30 * 60_000),
  });
  const aliceToken = (await api.signIn(alice)).access;
  const adminToken = (await api.signIn(admin)).access;
  await t.step("anonymous 401, patient and doctor 403, nothing changes", async () => {
    assertEquals((await api.request("DELETE", `/users/${alice.id}/`)).status, 401);
    assertEquals((await api.request("DELETE", `/users/${doctor.id}/`, { token: aliceToken })).status, 403);
    const doctorToken = (await api.signIn(doctor)).access;
    assertEquals((await api.request("DELETE", `/users/${alice.id}/`, { token: doctorToken })).status, 403);
    assertEquals((await userRow(api, doctor.id)).accountStatus, "active");
  });
  await t.step("an admin deactivates a patient who has appointments", async () => {
    assertEquals((await api.request("DELETE", `/users/${alice.id}/`, { token: adminToken })).status, 204);
    assertEquals((await userRow(api, alice.id)).accountStatus, "deactivated");
    assertEquals((await api.request("GET", "/me/", { token: aliceToken })).status, 401);
    const res = await api.request("GET", `/users/${alice.id}/`, { token: adminToken });
    assertEquals([res.status, res.body.account_status], [200, "deactivated"]);
  });
  await t.step("a missing id is 404, the admin's own account 409", async () => {
    assertEquals((await api.request("DELETE", "/users/999999/", { token: adminToken })).status, 404);
    assertEquals((await api.request("DELETE", `/users/${admin.id}/`, { token: adminToken })).status, 409);
    assertEquals((await userRow(api, admin.id)).accountStatus, "active");
  });
});

appTest("suspending the last account able to assign roles is 409", async (_t, api) => {
  const admin = await api.makeAdmin();
  const adminToken = (await api.signIn(admin)).access;
  const support = await api.request("POST", "/roles/", {
    token: adminToken,
    body: { role_name: "support", permissions: ["users:read:any", "users:write:any"] },
  });
  const agent = await api.makeUser([]);
  await api.request("POST", "/userroles/", { token: adminToken, body: { user: agent.id, role: support.body.id } });
  const token = (await api.signIn(agent)).access;
  const suspend = await api.request("PATCH", `/users/${admin.id}/`, { token, body: { account_status: "suspended" } });
  assertEquals(suspend.status, 409);
  assertEquals((await api.request("DELETE", `/users/${admin.id}/`, { token })).status, 409);
  assertEquals((await userRow(api, admin.id)).accountStatus, "active");
  assertEquals((await api.request("GET", "/me/", { token: adminToken })).status, 200);
});
