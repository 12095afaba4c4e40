/**
 * The admin console through `app.request()`: sign-in through the API's sign-in service, the
 * session cookie, CSRF, idle timeout, the session shared with the API, and every console write
 * recorded with `details.via = "console"`. (The browser scenarios are in console_browser_test.ts.)
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { and, eq, isNull } from "drizzle-orm";
import { appointments, auditLogs, doctorProfiles, rolePermissions, roles, sessions, users } from "../db/schema.ts";
import { ALL_PERMISSIONS, BUILTIN_ROLES } from "../services/permissions.ts";
import {
  apiSessionClient,
  type ConsoleClient,
  consoleRequest,
  consoleSignIn,
  makeStaff,
  SESSION_COOKIE,
} from "./_console.ts";
import { consolePages } from "../routes/admin/index.ts";
import { appTest, type TestApp } from "./_fixtures.ts";

appTest("GET /admin/ without a session redirects to the sign-in page", async (_t, api) => {
  const res = await consoleRequest(api, "/admin/users?search=x");
  assertEquals(res.status, 303);
  assertEquals(res.headers.get("location"), "/admin/login?next=%2Fadmin%2Fusers%3Fsearch%3Dx");
  const huge = await consoleRequest(api, "/admin/login", {
    method: "POST",
    body: new URLSearchParams({ login: "x".repeat(20_000), password: "y" }),
  });
  assertEquals(huge.status, 413, "the sign-in form's body is bounded");
  await huge.body?.cancel();
  const page = await consoleRequest(api, "/admin/login");
  assertEquals(page.status, 200);
  assertStringIncludes(page.headers.get("content-security-policy") ?? "", "form-action 'self'");
  assertStringIncludes(await page.text(), 'name="_csrf"');
});

appTest(
  "console sign-in sets a __Host- HttpOnly SameSite=Strict Secure cookie and is audited via the console",
  async (_t, api) => {
    const admin = await api.makeAdmin();
    const form = await consoleRequest(api, "/admin/login");
    const token = (await form.text()).match(/name="_csrf" value="([^"]+)"/)![1];
    const formCookie = form.headers.getSetCookie().find((c) => c.startsWith("portal_console_form="))!.split(";")[0];
    const res = await consoleRequest(api, "/admin/login", {
      method: "POST",
      headers: { cookie: formCookie },
      body: new URLSearchParams({ _csrf: token, login: admin.username, password: admin.password }),
    });
    assertEquals(res.status, 303);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    for (const attribute of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"]) {
      assertStringIncludes(
        cookie,
        attribute,
      );
    }
    assert(!/Domain=/i.test(cookie));
    const [login] = await api.db.select().from(auditLogs).where(
      and(eq(auditLogs.action, "login"), eq(auditLogs.userId, admin.id)),
    );
    assertEquals((login.details as Record<string, unknown>).via, "console");
  },
);

appTest("console sign-in refuses a wrong password with the API's words, audited as login_failed", async (_t, api) => {
  const admin = await api.makeAdmin();
  const form = await consoleRequest(api, "/admin/login");
  const token = (await form.text()).match(/name="_csrf" value="([^"]+)"/)![1];
  const formCookie = form.headers.getSetCookie().find((c) => c.startsWith("portal_console_form="))!.split(";")[0];
  const res = await consoleRequest(api, "/admin/login", {
    method: "POST",
    headers: { cookie: formCookie },
    body: new URLSearchParams({ _csrf: token, login: admin.username, password: "wrong" }),
  });
  assertEquals(res.status, 401);
  assertStringIncludes(await res.text(), "The credentials are invalid or the account cannot sign in");
  assertEquals(res.headers.getSetCookie().some((c) => c.startsWith(SESSION_COOKIE)), false);
  const rows = await api.db.select().from(auditLogs).where(eq(auditLogs.action, "login_failed"));
  assertEquals(rows.map((r) => (r.details as Record<string, unknown>).via), ["console"]);
});

appTest("a user without admin:console is refused at sign-in (session revoked) and on every page", async (_t, api) => {
  const doctor = await api.makeDoctor();
  const form = await consoleRequest(api, "/admin/login");
  const token = (await form.text()).match(/name="_csrf" value="([^"]+)"/)![1];
  const formCookie = form.headers.getSetCookie().find((c) => c.startsWith("portal_console_form="))!.split(";")[0];
  const res = await consoleRequest(api, "/admin/login", {
    method: "POST",
    headers: { cookie: formCookie },
    body: new URLSearchParams({ _csrf: token, login: doctor.username, password: doctor.password }),
  });
  assertEquals(res.status, 403);
  assertStringIncludes(await res.text(), "cannot use the admin console");
  assertEquals(res.headers.getSetCookie().some((c) => c.startsWith(SESSION_COOKIE)), false);
  const open = await api.db.select().from(sessions).where(
    and(eq(sessions.userId, doctor.id), isNull(sessions.revokedAt)),
  );
  assertEquals(open, [], "the session the sign-in opened is revoked");
  const denied = await api.db.select().from(auditLogs).where(eq(auditLogs.action, "access_denied"));
  assertEquals(denied.map((r) => [r.userId, (r.details as Record<string, unknown>).via]), [[doctor.id, "console"]]);

  const client = await apiSessionClient(api, doctor);
  const page = await client.get("/admin/");
  assertEquals(page.status, 403);
  const html = await page.text();
  assertStringIncludes(html, "Not allowed");
  assert(!html.includes('href="/admin/users"'), "no links into the console");
});

appTest("a console form posted without its CSRF token is refused and changes nothing", async (_t, api) => {
  const admin = await api.makeAdmin();
  const patient = await api.makePatient();
  const client = await consoleSignIn(api, admin);
  const forms: Record<string, string>[] = [{ status: "suspended" }, { status: "suspended", _csrf: "forged" }];
  for (const fields of forms) {
    const res = await client.post(`/admin/users/${patient.id}/status`, fields, { withoutCsrf: true });
    assertEquals(res.status, 403);
    assertStringIncludes(await res.text(), "security token");
  }
  const [row] = await api.db.select().from(users).where(eq(users.id, patient.id));
  assertEquals(row.accountStatus, "active");
  const denied = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.action, "update"), eq(auditLogs.outcome, "denied")),
  );
  assertEquals(denied.length, 2);
  assertEquals(denied.map((r) => (r.details as Record<string, unknown>).reason), ["csrf", "csrf"]);
});

appTest("API logout, suspension and idle time end the console session", async (t, api) => {
  const admin = await api.makeAdmin();
  await t.step("logout through the API with the console session's token", async () => {
    const client = await consoleSignIn(api, admin);
    const { access } = await api.signIn(admin);
    const out = await api.request("POST", "/logout/", { token: access, body: { refresh: client.session } });
    assertEquals(out.status, 204);
    assertEquals((await client.get("/admin/")).status, 303);
  });
  await t.step("an idle session ends after CONSOLE_IDLE_MINUTES", async () => {
    const client = await consoleSignIn(api, admin);
    api.clock.advance(29 * 60);
    assertEquals((await client.get("/admin/")).status, 200);
    api.clock.advance(31 * 60);
    assertEquals((await client.get("/admin/")).status, 303);
  });
  await t.step("suspension by another administrator", async () => {
    const other = await api.makeAdmin();
    const client = await consoleSignIn(api, other);
    const me = await consoleSignIn(api, admin);
    assertEquals((await me.post(`/admin/users/${other.id}/status`, { status: "suspended" })).status, 303);
    assertEquals((await client.get("/admin/")).status, 303);
  });
});

appTest("a password reset and sign out everywhere end the console session", async (t, api) => {
  const refusedAt = async (client: ConsoleClient, path: string) => {
    const res = await client.get(path);
    await res.body?.cancel();
    return [res.status, res.headers.get("location")];
  };
  await t.step("a password reset through the API", async () => {
    const admin = await api.makeAdmin();
    const client = await consoleSignIn(api, admin);
    assertEquals((await refusedAt(client, "/admin/users"))[0], 200);
    assertEquals((await api.request("POST", "/forgot-password/", { body: { email: admin.email } })).status, 202);
    const token = decodeURIComponent((await api.mails()).at(-1)!.match(/reset-password\/\?token=([^\s]+)/)![1]);
    const reset = await api.request("POST", "/reset-password/", {
      body: { token, new_password: "a brand new passphrase 42" },
    });
    assertEquals(reset.status, 204, reset.text);
    assertEquals(await refusedAt(client, "/admin/users"), [303, "/admin/login?next=%2Fadmin%2Fusers"]);
    const post = await client.post(`/admin/users/${admin.id}/signout`);
    assertEquals([post.status, post.headers.get("location")], [303, "/admin/login"]);
  });
  await t.step("sign out everywhere by another administrator, from the console", async () => {
    const [target, other] = [await api.makeAdmin(), await api.makeAdmin()];
    const sessions = [await consoleSignIn(api, target), await consoleSignIn(api, target)];
    const operator = await consoleSignIn(api, other);
    const res = await operator.post(`/admin/users/${target.id}/signout`);
    assertEquals([res.status, res.headers.get("location")], [
      303,
      `/admin/users/${target.id}?notice=Signed%20out%20everywhere`,
    ]);
    for (const client of sessions) {
      assertEquals(await refusedAt(client, "/admin/"), [303, "/admin/login?next=%2Fadmin%2F"]);
    }
    assertEquals((await refusedAt(operator, "/admin/"))[0], 200, "the operator's own session goes on");
  });
});

appTest("console writes go through the services and are recorded with via=console", async (_t, api) => {
  const admin = await api.makeAdmin();
  const client = await consoleSignIn(api, admin);
  const doctorRole = (await api.db.query.roles.findFirst({ where: (r, { eq }) => eq(r.roleName, "doctor") }))!;
  const created = await client.post("/admin/users", {
    username: "dr_console",
    email: "dr_console@example.test",
    password: "a long enough password 1",
    role: String(doctorRole.id),
    first_name: "Ada",
    last_name: "Console",
    specialization: "Cardiology",
    time_zone: "Europe/Paris",
    consultation_fee: "5000",
    hours_mon: "09:00-12:00, 13:00-17:00",
    hours_fri: "08:00-12:00",
  });
  assertEquals(created.status, 303, await created.text());
  const userId = Number(created.headers.get("location")!.match(/\/admin\/users\/(\d+)/)![1]);
  const [profile] = await api.db.select().from(doctorProfiles).where(eq(doctorProfiles.userId, userId));
  assertEquals(profile.workingHours, {
    mon: [{ start: "09:00", end: "12:00" }, { start: "13:00", end: "17:00" }],
    fri: [{ start: "08:00", end: "12:00" }],
  });
  assertEquals((await client.post(`/admin/users/${userId}/status`, { status: "suspended" })).status, 303);
  assertEquals((await client.post(`/admin/users/${userId}/status`, { status: "active" })).status, 303);
  assertEquals((await client.post(`/admin/users/${userId}/signout`)).status, 303);
  const rows = await api.db.select().from(auditLogs).where(eq(auditLogs.outcome, "success"));
  const writes = rows.filter((r) => !["read", "list", "login"].includes(r.action));
  const seen = writes.map((r) => `${r.action} ${r.targetTable}`);
  for (
    const expected of ["create users", "create user_roles", "create doctor_profiles", "update users", "logout users"]
  ) {
    assert(seen.includes(expected), `${expected} in ${seen.join(", ")}`);
  }
  for (const r of writes) {
    assertEquals((r.details as Record<string, unknown>).via, "console", `${r.action} ${r.targetTable}`);
  }

  const directory = await api.request("GET", `/doctors/${userId}`, { token: (await api.signIn(admin)).access });
  assertEquals(directory.status, 200);
  assertEquals((directory.body.working_hours as Record<string, unknown>).fri, [{ start: "08:00", end: "12:00" }]);
});

appTest("console: cancel an appointment with a reason, edit a doctor's hours, change the role grid", async (t, api) => {
  const admin = await api.makeAdmin();
  const client = await consoleSignIn(api, admin);
  const patient = await api.makePatient();
  const doctor = await api.makeDoctor();
  const at = new Date(api.clock.now().getTime() + 2 * 86_400_000);
  const [appointment] = await api.db.insert(appointments).values({
    patientId: patient.id,
    doctorId: doctor.id,
    appointmentDate: at,
    durationMinutes: 30,
    endsAt: new Date(at.getTime() + 30 * 60_000),
  }).returning();
  const recorded = async (action: string, table: string) =>
    (await api.db.select().from(auditLogs).where(and(eq(auditLogs.action, action), eq(auditLogs.targetTable, table))))
      .filter((r) => r.outcome === "success" && (r.details as Record<string, unknown>).via === "console");

  await t.step("cancel with a reason", async () => {
    const week = await client.get(`/admin/appointments?doctor=${doctor.id}&view=week`);
    assertStringIncludes(await week.text(), `/admin/appointments/${appointment.id}/cancel`);
    const res = await client.post(`/admin/appointments/${appointment.id}/cancel`, { reason: "Doctor unwell" });
    assertEquals(res.status, 303);
    const [row] = await api.db.select().from(appointments).where(eq(appointments.id, appointment.id));
    assertEquals([row.status, row.cancellationReason], ["cancelled", "Doctor unwell"]);
    assertEquals((await recorded("update", "appointments")).length, 1);
  });

  await t.step("a doctor's weekly hours, then the free slots of a day", async () => {
    const res = await client.post(`/admin/doctors/${doctor.id}`, {
      first_name: "Doc",
      last_name: "Edited",
      time_zone: "UTC",
      consultation_fee: "0",
      hours_tue: "09:00-10:00",
    });
    assertEquals(res.status, 303, await res.text());
    const [row] = await api.db.select().from(doctorProfiles).where(eq(doctorProfiles.userId, doctor.id));
    assertEquals(row.workingHours, { tue: [{ start: "09:00", end: "10:00" }] });
    assertEquals((await recorded("update", "doctor_profiles")).length, 1);
    const bad = await client.post(`/admin/doctors/${doctor.id}`, { hours_tue: "10:00-09:00" });
    assertEquals(bad.status, 422);
    const page = await (await client.get(`/admin/doctors/${doctor.id}?date=2030-01-01`)).text();
    assertStringIncludes(page, "09:00–09:30 · 09:30–10:00"); // 2030-01-01 is a Tuesday
  });

  await t.step("the role grid: admin:console granted to a custom role, recorded as permission_change", async () => {
    await makeStaff(api, "front_desk", ["users:read:any"]);
    const custom = (await api.db.query.roles.findFirst({ where: (r, { eq }) => eq(r.roleName, "front_desk") }))!;
    const grid = await (await client.get("/admin/roles")).text();
    const body = gridForm(grid, client.csrf);
    body.append(`grant:${custom.id}`, "admin:console");
    const res = await postGrid(api, client.session, body);
    assertEquals(res.status, 303, await res.text());
    assertStringIncludes(res.headers.get("location")!, "1%20role(s)%20changed");
    const [change] = await recorded("permission_change", "roles");
    assertEquals((change.details as Record<string, unknown>).added, ["admin:console"]);
  });
});

appTest("the role grid keeps built-in roles read-only; custom roles stay editable", async (t, api) => {
  const admin = await api.makeAdmin();
  const client = await consoleSignIn(api, admin);
  await makeStaff(api, "front_desk", ["users:read:any"]);
  const all = await api.db.select().from(roles);
  const builtin = all.filter((r) => r.builtin);
  const custom = all.find((r) => r.roleName === "front_desk")!;
  assertEquals(builtin.map((r) => r.roleName).sort(), Object.keys(BUILTIN_ROLES).sort());
  const permissionsOf = async () =>
    (await api.db.select().from(rolePermissions)).map((r) => `${r.roleId}:${r.permission}`).sort();

  await t.step("every built-in column is rendered disabled, a custom one is not", async () => {
    const grid = await (await client.get("/admin/roles")).text();
    for (const role of builtin) {
      const boxes = [...grid.matchAll(new RegExp(`<input[^>]*name="grant:${role.id}"[^>]*>`, "g"))].map((m) => m[0]);
      assertEquals(boxes.length, ALL_PERMISSIONS.length, role.roleName);
      assert(boxes.every((b) => / disabled/.test(b)), `${role.roleName} is read-only`);
      assert(!grid.includes(`name="shown" value="${role.id}"`), `${role.roleName} is not posted back`);
    }
    const boxes = [...grid.matchAll(new RegExp(`<input[^>]*name="grant:${custom.id}"[^>]*>`, "g"))].map((m) => m[0]);
    assert(boxes.length > 0 && boxes.every((b) => !/ disabled/.test(b)), "the custom role is editable");
    assertStringIncludes(grid, `name="shown" value="${custom.id}"`);
  });

  await t.step(
    "a post that changes the doctor or the patient role is refused, audited, and changes nothing",
    async () => {
      const before = await permissionsOf();
      const grid = await (await client.get("/admin/roles")).text();
      for (const name of ["doctor", "patient"]) {
        const role = builtin.find((r) => r.roleName === name)!;
        const body = gridForm(grid, client.csrf);
        body.append("shown", String(role.id));
        body.append(`grant:${role.id}`, "admin:console");
        body.append(`grant:${custom.id}`, "admin:console"); // refused as a whole: the custom role is not changed either
        const res = await postGrid(api, client.session, body);
        assertEquals(res.status, 409);
        assertStringIncludes(await res.text(), `The built-in role ${name} cannot be changed in the console`);
      }
      assertEquals(await permissionsOf(), before);
      const denied = await api.db.select().from(auditLogs).where(
        and(eq(auditLogs.action, "permission_change"), eq(auditLogs.outcome, "denied")),
      );
      assertEquals(
        denied.map((r) => [r.userId, r.targetTable, (r.details as Record<string, unknown>).via]),
        [[admin.id, "roles", "console"], [admin.id, "roles", "console"]],
      );
      assertEquals(
        denied.map((r) => (r.details as Record<string, unknown>).reason),
        ["builtin-role", "builtin-role"],
      );
    },
  );

  await t.step("the grid as the browser posts it still changes a custom role", async () => {
    const grid = await (await client.get("/admin/roles")).text();
    const body = gridForm(grid, client.csrf);
    body.append(`grant:${custom.id}`, "payments:read");
    const res = await postGrid(api, client.session, body);
    assertEquals([res.status, res.headers.get("location")], [303, "/admin/roles?notice=1%20role(s)%20changed"]);
    const granted = await api.db.select().from(rolePermissions).where(eq(rolePermissions.roleId, custom.id));
    assertEquals(granted.map((r) => r.permission).sort(), ["payments:read", "users:read:any"]);
  });
});

/** Posts the role grid (its repeated fields, which `ConsoleClient.post` cannot send). */
function postGrid(api: TestApp, session: string, body: URLSearchParams): Promise<Response> {
  return consoleRequest(api, "/admin/roles", {
    method: "POST",
    headers: { cookie: `${SESSION_COOKIE}=${session}` },
    body,
  });
}

/** The role grid's form as a browser submits it: the shown roles and the ticked boxes that are not disabled. */
function gridForm(grid: string, csrf: string): URLSearchParams {
  const body = new URLSearchParams({ _csrf: csrf });
  for (const m of grid.matchAll(/name="shown" value="(\d+)"/g)) body.append("shown", m[1]);
  for (const m of grid.matchAll(/<input[^>]*name="grant:(\d+)" value="([^"]+)"[^>]*>/g)) {
    if (/ checked/.test(m[0]) && !/ disabled/.test(m[0])) body.append(`grant:${m[1]}`, m[2]);
  }
  return body;
}

appTest(
  "in development the session cookie is portal_console, without Secure, so plain HTTP on a LAN works",
  async (_t, api) => {
    const admin = await api.makeAdmin();
    const form = await consoleRequest(api, "/admin/login");
    const token = (await form.text()).match(/name="_csrf" value="([^"]+)"/)![1];
    const formCookie = form.headers.getSetCookie().find((c) => c.startsWith("portal_console_form="))!;
    assert(!/Secure/.test(formCookie));
    const res = await consoleRequest(api, "/admin/login", {
      method: "POST",
      headers: { cookie: formCookie.split(";")[0] },
      body: new URLSearchParams({ _csrf: token, login: admin.username, password: admin.password }),
    });
    assertEquals(res.status, 303);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("portal_console="))!;
    assert(cookie && /HttpOnly/.test(cookie) && /SameSite=Strict/.test(cookie) && !/Secure/.test(cookie), cookie);
    const dashboard = await consoleRequest(api, "/admin/", { headers: { cookie: cookie.split(";")[0] } });
    assertEquals(dashboard.status, 200);
  },
  { env: { APP_ENV: "development" } },
);

appTest(
  "console sign-in is throttled like the API's: 429 with Retry-After once the address has failed too often, recorded",
  async (_t, api) => {
    const admin = await api.makeAdmin();
    const attempt = async (password: string) => {
      const form = await consoleRequest(api, "/admin/login");
      const token = (await form.text()).match(/name="_csrf" value="([^"]+)"/)![1];
      const formCookie = form.headers.getSetCookie().find((c) => c.startsWith("portal_console_form="))!.split(";")[0];
      return await consoleRequest(api, "/admin/login", {
        method: "POST",
        headers: { cookie: formCookie },
        body: new URLSearchParams({ _csrf: token, login: admin.username, password }),
      });
    };
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await attempt("not the password");
      statuses.push(res.status);
      if (res.status === 429) {
        assert(Number(res.headers.get("retry-after")) > 0, "Retry-After");
        assertStringIncludes(await res.text(), "Too many attempts");
      } else await res.body?.cancel();
    }
    assertEquals(statuses, [401, 401, 401, 429]);
    const limited = await api.db.select().from(auditLogs).where(
      and(eq(auditLogs.action, "login_failed"), eq(auditLogs.userId, admin.id)),
    );
    assert(limited.some((r) => (r.details as { reason?: string }).reason === "rate_limited"), "recorded");
  },
  { env: { RATE_LIMIT_LOGIN_PER_USER: "3", RATE_LIMIT_LOGIN_DELAY_MAX_MS: "0" } },
);

appTest("every console form post without its CSRF token is refused with 403 and changes nothing", async (_t, api) => {
  const admin = await api.makeAdmin();
  const client = await consoleSignIn(api, admin);
  const posts = consolePages.filter((p) => p.method === "post");
  assert(posts.length >= 5, `${posts.length} console forms`);
  const before = await api.db.select().from(users);
  for (const page of posts) {
    const path = page.path.replace(/:[a-z_]+/gi, String(admin.id));
    const res = await client.post(path, { account_status: "suspended", notes: "x" }, { withoutCsrf: true });
    assertEquals(res.status, 403, `${page.method} ${page.path}`);
    await res.body?.cancel();
  }
  assertEquals(await api.db.select().from(users), before);
  assertEquals((await client.get("/admin/")).status, 200, "the session survived: logout was refused too");
});
