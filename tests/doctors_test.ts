import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { and, eq } from "drizzle-orm";
import { auditLogs, doctorProfiles } from "../db/schema.ts";
import { type Actor, appTest, type TestApp } from "./_fixtures.ts";

const strip = (b: Record<string, unknown>) => ({ ...b, request_id: null });
const relative = (url: string) => url.replace(/^https?:\/\/[^/]+/, "");

function profileRow(api: TestApp, who: Actor) {
  return api.db.select().from(doctorProfiles).where(eq(doctorProfiles.userId, who.id)).then((rows) => rows[0]);
}

function auditRows(api: TestApp) {
  return api.db.select().from(auditLogs).where(eq(auditLogs.targetTable, "doctor_profiles"));
}

/** A user holding the doctor role whose profile has not been created yet. */
async function doctorWithoutProfile(api: TestApp): Promise<Actor> {
  const user = await api.makeDoctor();
  await api.db.delete(doctorProfiles).where(eq(doctorProfiles.userId, user.id));
  return user;
}

async function expectInvalid(
  api: TestApp,
  token: string,
  path: string,
  body: unknown,
  pointer: string,
  method = "PATCH",
) {
  const res = await api.request(method, path, { token, body });
  assertEquals(res.status, 422, `${JSON.stringify(body)}: ${res.text}`);
  const pointers = (res.body.errors as { pointer?: string }[]).map((e) => e.pointer);
  assert(pointers.includes(pointer), `${JSON.stringify(body)} should fail at ${pointer}, got ${pointers}`);
}

appTest(
  "GET /doctors/ and /doctors/{id}/ are open to any signed-in user and refuse anonymous callers",
  async (t, api) => {
    const [house, grey] = [await api.makeDoctor(), await api.makeDoctor()];
    const patient = await api.makePatient();
    const token = (await api.signIn(patient)).access;
    await t.step("a patient lists the directory", async () => {
      const res = await api.request("GET", "/doctors/", { token });
      assertEquals(res.status, 200);
      assertEquals((res.body.results as { id: number }[]).map((d) => d.id), [house.id, grey.id]);
      assertEquals([res.body.next, res.body.previous], [null, null]);
    });
    await t.step("a patient reads one entry, with every contract field", async () => {
      const res = await api.request("GET", `/doctors/${grey.id}/`, { token });
      assertEquals(res.status, 200);
      assertEquals(Object.keys(res.body).sort(), [
        "bio",
        "consultation_fee",
        "created_at",
        "currency",
        "first_name",
        "id",
        "last_name",
        "specialization",
        "time_zone",
        "updated_at",
        "user",
        "working_hours",
      ]);
      assertEquals([res.body.id, res.body.user, res.body.time_zone, res.body.working_hours], [
        grey.id,
        grey.id,
        "UTC",
        null,
      ]);
    });
    await t.step("the path without a trailing slash works too", async () => {
      assertEquals((await api.request("GET", `/doctors/${grey.id}`, { token })).status, 200);
    });
    await t.step("an unknown id is 404", async () => {
      assertEquals((await api.request("GET", "/doctors/999999/", { token })).status, 404);
      assertEquals((await api.request("GET", `/doctors/${patient.id}/`, { token })).status, 404);
    });
    await t.step("no token is 401 with WWW-Authenticate", async () => {
      for (const path of ["/doctors/", `/doctors/${house.id}/`]) {
        const res = await api.request("GET", path);
        assertEquals(res.status, 401, path);
        assert(res.headers.get("www-authenticate")?.startsWith("Bearer"), path);
      }
    });
    await t.step("directory reads are not health data and leave no audit record", async () => {
      assertEquals((await auditRows(api)).length, 0);
    });
  },
);

appTest("GET /doctors/ filters by exact specialization in any letter case and searches names", async (_t, api) => {
  const [a, b, c] = [await api.makeDoctor(), await api.makeDoctor(), await api.makeDoctor()];
  await api.db.update(doctorProfiles).set({ specialization: "Cardiology", firstName: "Gregory", lastName: "House_x" })
    .where(eq(doctorProfiles.userId, a.id));
  await api.db.update(doctorProfiles).set({ specialization: "Pediatric cardiology", lastName: "Grey" })
    .where(eq(doctorProfiles.userId, b.id));
  await api.db.update(doctorProfiles).set({ specialization: "cardiology", firstName: "Cristina", lastName: "Yang" })
    .where(eq(doctorProfiles.userId, c.id));
  const token = (await api.signIn(await api.makePatient())).access;
  const ids = async (query: string) => {
    const res = await api.request("GET", `/doctors/?${query}`, { token });
    assertEquals(res.status, 200, query);
    return (res.body.results as { id: number }[]).map((d) => d.id);
  };
  assertEquals(await ids("specialization=CARDIOLOGY"), [a.id, c.id]);
  assertEquals(await ids("specialization=cardio"), []);
  assertEquals(await ids("search=gre"), [a.id, b.id]);
  assertEquals(await ids("search=cristina%20yang"), [c.id]);
  assertEquals(await ids("search=_x"), [a.id], "LIKE wildcards are matched literally");
  assertEquals(await ids("search=gre&specialization=cardiology"), [a.id]);
  assertEquals((await api.request("GET", `/doctors/?search=${"x".repeat(101)}`, { token })).status, 400);
});

appTest("GET /doctors/ pages with cursors, both ways, in every ordering", async (_t, api) => {
  const specializations = [
    "Neurology",
    "Cardiology",
    "Neurology",
    "Oncology",
    "Cardiology",
    "Dermatology",
    "Neurology",
  ];
  for (const specialization of specializations) {
    const doctor = await api.makeDoctor();
    await api.db.update(doctorProfiles).set({ specialization }).where(eq(doctorProfiles.userId, doctor.id));
  }
  const token = (await api.signIn(await api.makePatient())).access;
  for (const ordering of ["id", "-id", "last_name", "-last_name", "specialization", "-specialization"]) {
    const seen: number[] = [];
    let url: string | null = `/doctors/?page_size=3&ordering=${ordering}`;
    let last: Record<string, unknown> = {};
    while (url) {
      const res = await api.request("GET", relative(url), { token });
      assertEquals(res.status, 200, url);
      seen.push(...(res.body.results as { id: number }[]).map((d) => d.id));
      last = res.body;
      url = res.body.next as string | null;
    }
    assertEquals(seen.length, 7, ordering);
    assertEquals(new Set(seen).size, 7, ordering);
    assert(last.previous, "the last page links back");
    const back = await api.request("GET", relative(last.previous as string), { token });
    assertEquals((back.body.results as { id: number }[]).map((d) => d.id), seen.slice(3, 6), ordering);
  }
  const bySpecialization = await api.request("GET", "/doctors/?ordering=specialization", { token });
  const values = (bySpecialization.body.results as { specialization: string }[]).map((d) => d.specialization);
  assertEquals(values, [...specializations].sort());
  assertEquals((await api.request("GET", "/doctors/?cursor=garbage", { token })).status, 400);
  assertEquals((await api.request("GET", "/doctors/?page_size=201", { token })).status, 400);
  assertEquals((await api.request("GET", "/doctors/?ordering=bio", { token })).status, 400);
});

appTest("PATCH /doctors/{id}/ lets a doctor change their own profile and no one else's", async (t, api) => {
  const [house, grey] = [await api.makeDoctor(), await api.makeDoctor()];
  const patient = await api.makePatient();
  const admin = await api.makeAdmin();
  const mine = (await api.signIn(house)).access;
  await t.step("the doctor edits their own profile", async () => {
    const before = await profileRow(api, house);
    api.clock.advance(60);
    const res = await api.request("PATCH", `/doctors/${house.id}/`, {
      token: mine,
      body: { specialization: "Diagnostics", bio: "Nephrology and infectious disease", user: house.id },
    });
    assertEquals(res.status, 200, res.text);
    assertEquals([res.body.specialization, res.body.bio], ["Diagnostics", "Nephrology and infectious disease"]);
    assertEquals(res.body.first_name, before.firstName, "fields not sent are kept");
    assertNotEquals(res.body.updated_at, before.updatedAt.toISOString());
    assertEquals((await profileRow(api, house)).specialization, "Diagnostics");
  });
  await t.step("another doctor's profile answers exactly like a missing one, and is unchanged", async () => {
    const before = await profileRow(api, grey);
    const other = await api.request("PATCH", `/doctors/${grey.id}/`, { token: mine, body: { bio: "hijacked" } });
    const missing = await api.request("PATCH", "/doctors/999999/", { token: mine, body: { bio: "hijacked" } });
    assertEquals([other.status, missing.status], [404, 404]);
    assertEquals(strip(other.body), strip(missing.body));
    const put = await api.request("PUT", `/doctors/${grey.id}/`, {
      token: mine,
      body: { first_name: "X", last_name: "Y", specialization: "", bio: "", working_hours: null, time_zone: "UTC" },
    });
    assertEquals(put.status, 404);
    assertEquals(await profileRow(api, grey), before);
  });
  await t.step("a patient is refused with 403 and nothing changes", async () => {
    const before = await profileRow(api, grey);
    const token = (await api.signIn(patient)).access;
    const res = await api.request("PATCH", `/doctors/${grey.id}/`, { token, body: { bio: "x" } });
    assertEquals(res.status, 403);
    assertEquals(await profileRow(api, grey), before);
  });
  await t.step("an admin edits any doctor's profile", async () => {
    const token = (await api.signIn(admin)).access;
    const res = await api.request("PATCH", `/doctors/${grey.id}/`, { token, body: { last_name: "Grey-Sloan" } });
    assertEquals([res.status, res.body.last_name], [200, "Grey-Sloan"]);
  });
  await t.step("changes and refusals are audited against doctor_profiles, with no patient", async () => {
    const rows = await auditRows(api);
    const events = rows.map((r) => [r.userId, r.action, r.outcome, r.targetId]);
    assertEquals(
      events.filter((e) => e[1] === "update").sort(),
      [
        [house.id, "update", "success", String(house.id)],
        [house.id, "update", "denied", String(grey.id)],
        [house.id, "update", "denied", "999999"],
        [house.id, "update", "denied", String(grey.id)],
        [admin.id, "update", "success", String(grey.id)],
      ].sort(),
    );
    assert(rows.some((r) => r.action === "access_denied" && r.userId === patient.id));
    assert(rows.every((r) => r.patientIds.length === 0));
  });
});

appTest("PUT /doctors/{id}/ replaces every editable field and requires all of them", async (_t, api) => {
  const doctor = await api.makeDoctor();
  const token = (await api.signIn(doctor)).access;
  const full = {
    first_name: "Meredith",
    last_name: "Grey",
    specialization: "General surgery",
    bio: "",
    working_hours: { tue: [{ start: "08:00", end: "16:00" }] },
    time_zone: "America/New_York",
  };
  const res = await api.request("PUT", `/doctors/${doctor.id}/`, { token, body: full });
  assertEquals(res.status, 200, res.text);
  assertEquals({ ...res.body, id: 0, user: 0, created_at: "", updated_at: "" }, {
    ...full,
    consultation_fee: 0,
    currency: "USD",
    id: 0,
    user: 0,
    created_at: "",
    updated_at: "",
  });
  const before = await profileRow(api, doctor);
  const { time_zone: _, ...partial } = full;
  await expectInvalid(api, token, `/doctors/${doctor.id}/`, { ...partial, first_name: "M" }, "/time_zone", "PUT");
  assertEquals(await profileRow(api, doctor), before);
});

appTest("POST /doctors/ lets an admin create one profile for a user holding the doctor role", async (t, api) => {
  const admin = await api.makeAdmin();
  const token = (await api.signIn(admin)).access;
  const newcomer = await doctorWithoutProfile(api);
  const patient = await api.makePatient();
  await t.step("created with the defaults for what is not sent", async () => {
    const res = await api.request("POST", "/doctors/", {
      token,
      body: { user: newcomer.id, first_name: "Derek", last_name: "Shepherd", specialization: "Neurosurgery" },
    });
    assertEquals(res.status, 201, res.text);
    assertEquals(
      [res.body.id, res.body.user, res.body.time_zone, res.body.bio, res.body.working_hours],
      [newcomer.id, newcomer.id, "UTC", "", null],
    );
    assertEquals((await profileRow(api, newcomer)).lastName, "Shepherd");
  });
  await t.step("a second profile for the same user is 409", async () => {
    const res = await api.request("POST", "/doctors/", { token, body: { user: newcomer.id, first_name: "Other" } });
    assertEquals(res.status, 409);
    assertEquals((await profileRow(api, newcomer)).firstName, "Derek");
  });
  await t.step("a user without the doctor role, or no user at all, is 422 at /user", async () => {
    for (const user of [patient.id, admin.id, 999999]) {
      await expectInvalid(api, token, "/doctors/", { user, first_name: "X" }, "/user", "POST");
    }
    await expectInvalid(api, token, "/doctors/", { first_name: "X" }, "/user", "POST");
    assertEquals(await profileRow(api, patient), undefined);
    assertEquals(await profileRow(api, admin), undefined);
  });
  let other: Awaited<ReturnType<typeof doctorWithoutProfile>>;
  await t.step("a doctor creates their own profile once, and nobody else's (422 at /user)", async () => {
    other = await doctorWithoutProfile(api);
    const doctorToken = (await api.signIn(await api.makeDoctor())).access;
    await expectInvalid(api, doctorToken, "/doctors/", { user: other.id }, "/user", "POST");
    assertEquals(await profileRow(api, other), undefined);
    const own = (await api.signIn(other)).access;
    const created = await api.request("POST", "/doctors/", { token: own, body: { first_name: "Meredith" } });
    assertEquals([created.status, created.body.user], [201, other.id]);
    assertEquals((await api.request("POST", "/doctors/", { token: own, body: { user: other.id } })).status, 409);
  });
  await t.step("the creations and the refusals are audited", async () => {
    const rows = (await auditRows(api)).filter((r) => r.action === "create");
    assertEquals(rows.filter((r) => r.outcome === "success").map((r) => r.targetId), [
      String(newcomer.id),
      String(other.id),
    ]);
    assertEquals(rows.filter((r) => r.outcome === "denied").length, 7, "two 409s and five 422s");
  });
});

appTest("working_hours must be weekdays of at most 4 ordered, non-overlapping HH:MM intervals", async (t, api) => {
  const doctor = await api.makeDoctor();
  const token = (await api.signIn(doctor)).access;
  const path = `/doctors/${doctor.id}/`;
  const interval = (start: string, end: string) => ({ start, end });
  await t.step("invalid hours are 422 with a pointer to the offending part, and nothing changes", async () => {
    const before = await profileRow(api, doctor);
    const cases: [unknown, string][] = [
      ["9 to 5", "/working_hours"],
      [[interval("09:00", "17:00")], "/working_hours"],
      [{ monday: [] }, "/working_hours/monday"],
      [{ mon: interval("09:00", "17:00") }, "/working_hours/mon"],
      [{ mon: [1, 2, 3, 4, 5].map((h) => interval(`0${h}:00`, `0${h}:30`)) }, "/working_hours/mon"],
      [{ tue: [interval("17:00", "09:00")] }, "/working_hours/tue/0/end"],
      [{ tue: [interval("09:00", "09:00")] }, "/working_hours/tue/0/end"],
      [{ wed: [interval("9:00", "12:00")] }, "/working_hours/wed/0/start"],
      [{ wed: [interval("23:00", "24:01")] }, "/working_hours/wed/0/end"],
      [{ wed: [interval("24:00", "24:00")] }, "/working_hours/wed/0/end"],
      [{ thu: [interval("09:00", "25:00")] }, "/working_hours/thu/0/end"],
      [{ fri: [{ start: "09:00" }] }, "/working_hours/fri/0/end"],
      [{ fri: [{ ...interval("09:00", "12:00"), room: "3" }] }, "/working_hours/fri/0/room"],
      [{ sat: [interval("09:00", "12:00"), interval("11:00", "13:00")] }, "/working_hours/sat/1"],
      [{ sun: [interval("13:00", "17:00"), interval("08:00", "14:00")] }, "/working_hours/sun/0"],
    ];
    for (const [hours, pointer] of cases) await expectInvalid(api, token, path, { working_hours: hours }, pointer);
    assertEquals(await profileRow(api, doctor), before);
  });
  await t.step("valid hours are stored with each day in start order, weekdays in calendar order", async () => {
    const res = await api.request("PATCH", path, {
      token,
      body: {
        working_hours: {
          sun: [],
          mon: [interval("13:00", "24:00"), interval("00:00", "08:00"), interval("08:00", "12:00")],
          fri: [interval("09:00", "17:00")],
        },
      },
    });
    assertEquals(res.status, 200, res.text);
    const expected = {
      mon: [interval("00:00", "08:00"), interval("08:00", "12:00"), interval("13:00", "24:00")],
      fri: [interval("09:00", "17:00")],
      sun: [],
    };
    assertEquals(JSON.stringify(res.body.working_hours), JSON.stringify(expected));
    const read = await api.request("GET", path, { token: (await api.signIn(await api.makePatient())).access });
    assertEquals(JSON.stringify(read.body.working_hours), JSON.stringify(expected));
  });
  await t.step("null clears them", async () => {
    const res = await api.request("PATCH", path, { token, body: { working_hours: null } });
    assertEquals([res.status, res.body.working_hours], [200, null]);
    assertEquals((await profileRow(api, doctor)).workingHours, null);
  });
});

appTest("time_zone must be an IANA zone name, stored in its canonical spelling", async (_t, api) => {
  const doctor = await api.makeDoctor();
  const token = (await api.signIn(doctor)).access;
  const path = `/doctors/${doctor.id}/`;
  const before = await profileRow(api, doctor);
  for (const zone of ["Mars/Olympus_Mons", "+05:00", "-0300", "", "UTC+2", "x".repeat(65), 3600, null]) {
    await expectInvalid(api, token, path, { time_zone: zone }, "/time_zone");
  }
  assertEquals(await profileRow(api, doctor), before);
  for (const [sent, stored] of [["Europe/Paris", "Europe/Paris"], ["europe/paris", "Europe/Paris"], ["utc", "UTC"]]) {
    const res = await api.request("PATCH", path, { token, body: { time_zone: sent } });
    assertEquals([res.status, res.body.time_zone], [200, stored], sent);
  }
  const admin = (await api.signIn(await api.makeAdmin())).access;
  await expectInvalid(api, admin, "/doctors/", { user: doctor.id, time_zone: "Nowhere/Land" }, "/time_zone", "POST");
});

appTest("doctor bodies refuse unknown and server-owned fields, over-long text and a foreign user", async (_t, api) => {
  const [doctor, other] = [await api.makeDoctor(), await api.makeDoctor()];
  const token = (await api.signIn(doctor)).access;
  const path = `/doctors/${doctor.id}/`;
  const before = await profileRow(api, doctor);
  await expectInvalid(api, token, path, { bio: "ok", rating: 5 }, "/rating");
  await expectInvalid(api, token, path, { id: other.id }, "/id");
  await expectInvalid(api, token, path, { created_at: "2020-01-01T00:00:00Z" }, "/created_at");
  await expectInvalid(api, token, path, { updated_at: "2020-01-01T00:00:00Z" }, "/updated_at");
  await expectInvalid(api, token, path, { user: other.id }, "/user");
  await expectInvalid(api, token, path, { first_name: "x".repeat(101) }, "/first_name");
  await expectInvalid(api, token, path, { last_name: "x".repeat(101) }, "/last_name");
  await expectInvalid(api, token, path, { specialization: "x".repeat(101) }, "/specialization");
  await expectInvalid(api, token, path, { bio: "x".repeat(5001) }, "/bio");
  await expectInvalid(api, token, path, { first_name: null }, "/first_name");
  assertEquals(await profileRow(api, doctor), before);
  const admin = (await api.signIn(await api.makeAdmin())).access;
  const newcomer = await doctorWithoutProfile(api);
  await expectInvalid(
    api,
    admin,
    "/doctors/",
    { user: newcomer.id, created_at: "2020-01-01T00:00:00Z" },
    "/created_at",
    "POST",
  );
  assertEquals(await profileRow(api, newcomer), undefined);
  const ok = await api.request("PATCH", path, { token, body: { bio: "x".repeat(5000), first_name: "x".repeat(100) } });
  assertEquals(ok.status, 200);
});

appTest("DELETE /doctors/{id}/ is for administrators only", async (_t, api) => {
  const [doctor, other] = [await api.makeDoctor(), await api.makeDoctor()];
  const mine = (await api.signIn(doctor)).access;
  assertEquals((await api.request("DELETE", `/doctors/${doctor.id}/`, { token: mine })).status, 403);
  assertEquals((await api.request("DELETE", `/doctors/${other.id}/`, { token: mine })).status, 403);
  const patientToken = (await api.signIn(await api.makePatient())).access;
  assertEquals((await api.request("DELETE", `/doctors/${other.id}/`, { token: patientToken })).status, 403);
  assert(await profileRow(api, doctor));
  assert(await profileRow(api, other));
  const admin = await api.makeAdmin();
  const token = (await api.signIn(admin)).access;
  assertEquals((await api.request("DELETE", `/doctors/${other.id}/`, { token })).status, 204);
  assertEquals(await profileRow(api, other), undefined);
  assertEquals((await api.request("GET", `/doctors/${other.id}/`, { token })).status, 404);
  assertEquals((await api.request("DELETE", `/doctors/${other.id}/`, { token })).status, 404);
  const [deleted] = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.action, "delete"), eq(auditLogs.outcome, "success"), eq(auditLogs.userId, admin.id)),
  );
  assertEquals([deleted.targetTable, deleted.targetId], ["doctor_profiles", String(other.id)]);
});
