import { assertEquals, assertMatch } from "@std/assert";
import { count, eq } from "drizzle-orm";
import { auditLogs, patientProfiles, users } from "../db/schema.ts";
import { appTest, DEFAULT_PASSWORD } from "./_fixtures.ts";

const body = (over: Record<string, unknown> = {}) => ({
  username: "newpatient",
  email: "New.Patient@Example.test",
  password: DEFAULT_PASSWORD,
  first_name: "Ada",
  last_name: "Lovelace",
  date_of_birth: "1990-12-10",
  phone: "+44 20 7946 0000",
  ...over,
});

appTest("POST /register/ creates a patient with a profile and never a client-chosen role", async (t, api) => {
  const [{ before }] = await api.db.select({ before: count() }).from(auditLogs);
  const res = await api.request("POST", "/register/", { body: body() });
  assertEquals(res.status, 201);
  const records = (await api.db.select().from(auditLogs).orderBy(auditLogs.id)).slice(before);
  assertEquals(
    records.map((r) => [r.action, r.outcome, r.targetTable, r.targetId, r.patientId]),
    [["create", "success", "users", String(res.body.id), res.body.id]],
    "one record of the registration",
  );
  assertEquals(res.body.roles, ["patient"]);
  assertEquals(res.body.email, "new.patient@example.test");
  assertEquals("password" in res.body || "password_hash" in res.body, false);
  const [profile] = await api.db.select().from(patientProfiles).where(
    eq(patientProfiles.userId, res.body.id as number),
  );
  assertEquals([profile.firstName, profile.lastName, profile.dateOfBirth], ["Ada", "Lovelace", "1990-12-10"]);
  const [user] = await api.db.select().from(users).where(eq(users.id, res.body.id as number));
  assertMatch(user.passwordHash, /^\$argon2id\$v=19\$m=12288,t=3,p=1\$/);

  await t.step("the new account signs in", async () => {
    const signIn = await api.request("POST", "/token/", {
      body: { username: "newpatient", password: DEFAULT_PASSWORD },
    });
    assertEquals(signIn.status, 200);
  });

  await t.step("a role in the body is refused as an unknown field", async () => {
    const res = await api.request("POST", "/register/", {
      body: body({ username: "sneaky", email: "s@example.test", roles: ["admin"] }),
    });
    assertEquals(res.status, 422);
    assertEquals(res.body.errors, [{ pointer: "/roles", detail: "Unknown or read-only field" }]);
  });
});

appTest("POST /register/ answers 409 for a taken username or e-mail, in any letter case", async (_t, api) => {
  assertEquals((await api.request("POST", "/register/", { body: body() })).status, 201);
  const sameName = await api.request("POST", "/register/", {
    body: body({ username: "NEWPATIENT", email: "other@example.test" }),
  });
  assertEquals([sameName.status, sameName.body.errors], [409, [{ pointer: "/username", detail: "Already taken" }]]);
  const sameEmail = await api.request("POST", "/register/", {
    body: body({ username: "other", email: "new.patient@EXAMPLE.test" }),
  });
  assertEquals([sameEmail.status, sameEmail.body.errors], [409, [{ pointer: "/email", detail: "Already taken" }]]);
  const [{ n }] = await api.db.select({ n: count() }).from(users);
  assertEquals(n, 1);
});

appTest("POST /register/ refuses weak passwords with a pointer to the field", async (_t, api) => {
  const cases: [string, RegExp][] = [
    ["short7!", /at least 8/],
    ["x".repeat(129), /at most 128/],
    ["password1", /too common/],
    ["Baseball", /too common/],
    ["newpatient-2024!", /username or email/],
  ];
  for (const [password, why] of cases) {
    const res = await api.request("POST", "/register/", { body: body({ password }) });
    assertEquals(res.status, 422, password);
    const errors = res.body.errors as { pointer: string; detail: string }[];
    assertEquals(errors[0].pointer, "/password");
    assertMatch(errors[0].detail, why);
  }
  const [{ n }] = await api.db.select({ n: count() }).from(users);
  assertEquals(n, 0);
});

type Row = Record<string, unknown>;

appTest("POST /register/ validates every field with a JSON pointer", async (_t, api) => {
  const res = await api.request("POST", "/register/", {
    body: body({
      username: "a b",
      email: "not-an-email",
      date_of_birth: "31/12/1990",
      first_name: "x".repeat(101),
      phone: 5,
    }),
  });
  assertEquals(res.status, 422);
  const pointers = (res.body.errors as { pointer: string }[]).map((e) => e.pointer).sort();
  assertEquals(pointers, ["/date_of_birth", "/email", "/first_name", "/phone", "/username"]);
  // The refusal is recorded once, as a denied account creation by nobody.
  const records = await api.db.select().from(auditLogs);
  assertEquals(records.map((r) => [r.action, r.outcome, r.targetTable, r.userId, (r.details as Row).reason]), [
    ["create", "denied", "users", null, "validation"],
  ]);
});
