import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { count, desc, eq, sql } from "drizzle-orm";
import { base64url } from "jose";
import { openDatabase } from "../db/client.ts";
import { auditLogs } from "../db/schema.ts";
import { checkAuditTrail } from "../scripts/audit_verify.ts";
import { loadAuditKey } from "../services/audit_key.ts";
import { sealAuditTrail } from "../services/audit_sealer.ts";
import { seedAudit, type SeedEvent } from "./_audit.ts";
import { putUnderCare } from "./_care.ts";
import { type Actor, appTest, type TestApp } from "./_fixtures.ts";

type Row = Record<string, unknown>;
const ORIGIN = { ipAddress: "198.51.100.7", userAgent: "curl/8.5", requestId: "req-seeded" };
const PROBLEM = "application/problem+json";

function seed(api: TestApp, event: SeedEvent, at: Date) {
  return seedAudit(api.db, ORIGIN, event, at);
}

async function countRows(api: TestApp): Promise<number> {
  const [{ n }] = await api.db.select({ n: count() }).from(auditLogs);
  return n;
}

async function lastRow(api: TestApp) {
  const [row] = await api.db.select().from(auditLogs).orderBy(desc(auditLogs.id)).limit(1);
  return row;
}

async function tamper(api: TestApp, chainSeq: number) {
  await api.seal();
  await api.database.ownerQuery(`
    ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_or_delete;
    UPDATE audit_logs SET ip_address = '203.0.113.66' WHERE chain_seq = ${chainSeq};
    ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_or_delete;`);
  const [row] = await api.db.select({ id: auditLogs.id }).from(auditLogs).where(eq(auditLogs.chainSeq, chainSeq));
  return row.id;
}

/** Path and query of a page link (links are built on the public base URL). */
const local = (link: string) => {
  const url = new URL(link, "http://localhost");
  return `${url.pathname}${url.search}`;
};

appTest("GET /auditlogs/ filters by user, patient, target, action, outcome and time, newest first", async (t, api) => {
  const [alice, bob, doctor, admin] = [
    await api.makePatient(),
    await api.makePatient(),
    await api.makeDoctor(),
    await api.makeAdmin(),
  ];
  const now = api.clock.now().getTime();
  const hoursAgo = (h: number) => new Date(now - h * 3600_000);
  const table = "patient_profiles";
  const e1 = await seed(api, {
    userId: doctor.id,
    role: "doctor",
    action: "read",
    outcome: "success",
    targetTable: table,
    targetId: alice.id,
    patientId: alice.id,
    patientIds: [alice.id],
  }, hoursAgo(3));
  const e2 = await seed(api, {
    userId: doctor.id,
    role: "doctor",
    action: "list",
    outcome: "success",
    targetTable: table,
    patientIds: [alice.id, bob.id],
  }, hoursAgo(2));
  const e3 = await seed(api, {
    userId: bob.id,
    role: "patient",
    action: "update",
    outcome: "denied",
    targetTable: table,
    targetId: bob.id,
    patientId: bob.id,
    patientIds: [bob.id],
  }, hoursAgo(1));
  const { access } = await api.signIn(admin);
  const ids = async (query: string) => {
    const res = await api.request("GET", `/auditlogs/?${query}`, { token: access });
    assertEquals(res.status, 200, res.text);
    return (res.body.results as { id: number }[]).map((r) => r.id);
  };

  await t.step("?user= and ?patient= (patient_ids contains)", async () => {
    assertEquals(await ids(`user=${doctor.id}`), [e2.id, e1.id]);
    assertEquals(await ids(`patient=${alice.id}`), [e2.id, e1.id]);
    assertEquals(await ids(`patient=${bob.id}`), [e3.id, e2.id]);
  });
  await t.step("?target_table=, ?target_id=, ?action=, ?outcome=", async () => {
    assertEquals(await ids(`target_table=${table}`), [e3.id, e2.id, e1.id]);
    assertEquals(await ids(`target_table=${table}&target_id=${alice.id}`), [e1.id]);
    assertEquals(await ids(`action=update`), [e3.id]);
    assertEquals(await ids(`action=list&user=${doctor.id}`), [e2.id]);
    assertEquals(await ids(`outcome=denied`), [e3.id]);
  });
  await t.step("?from= is inclusive and ?to= exclusive, offsets accepted", async () => {
    const iso = (h: number) => hoursAgo(h).toISOString();
    assertEquals(await ids(`from=${iso(2)}&to=${iso(1)}`), [e2.id]);
    assertEquals(await ids(`target_table=${table}&to=${iso(1.5)}`), [e2.id, e1.id]);
    const plusTwo = new Date(hoursAgo(3).getTime() + 2 * 3600_000).toISOString().replace("Z", "+02:00");
    assertEquals(await ids(`target_table=${table}&from=${encodeURIComponent(plusTwo)}`), [e3.id, e2.id, e1.id]);
  });
  await t.step("?ordering=event_timestamp is oldest first", async () => {
    assertEquals(await ids(`target_table=${table}&ordering=event_timestamp`), [e1.id, e2.id, e3.id]);
    assertEquals(await ids(`target_table=${table}&ordering=-id`), [e3.id, e2.id, e1.id]);
  });
  await t.step("unknown filter values are 400 with the parameter named", async () => {
    for (
      const [query, parameter] of [
        ["action=hack", "action"],
        ["outcome=maybe", "outcome"],
        ["from=yesterday", "from"],
        ["user=abc", "user"],
        ["ordering=user", "ordering"],
        ["target_table=x%00y", "target_table"],
      ]
    ) {
      const res = await api.request("GET", `/auditlogs/?${query}`, { token: access });
      assertEquals([res.status, (res.body.errors as { parameter: string }[])[0].parameter], [400, parameter], query);
    }
  });
  await t.step(
    "every read of the trail is recorded, with the filters; a patient search names the patient",
    async () => {
      const all = await api.db.select().from(auditLogs)
        .where(sql`${auditLogs.userId} = ${admin.id} and ${auditLogs.action} = 'list'`);
      const reads = all.filter((r) => r.outcome === "success");
      assert(reads.length >= 12, `${reads.length} list records`);
      assert(reads.every((r) => r.targetTable === "audit_logs"));
      // The refused queries are recorded too, as denials with their reason.
      const refused = all.filter((r) => r.outcome !== "success");
      assertEquals(refused.map((r) => [r.outcome, (r.details as Row).reason]), [
        ...Array(6).fill(["denied", "invalid-parameters"]),
      ]);
      const search = reads.find((r) => (r.details as { filters: Row }).filters.patient === alice.id);
      assertEquals(search?.patientIds, [alice.id]);
    },
  );
});

appTest("keyset pages over the audit trail never repeat or skip a row, in every ordering", async (t, api) => {
  const admin = await api.makeAdmin();
  const { access } = await api.signIn(admin);
  // Microseconds a JS Date cannot hold, and exact ties broken by id.
  const stamps = [
    "2031-01-01T00:00:00.000300Z",
    "2031-01-01T00:00:00.000100Z",
    "2031-01-01T00:00:00.000100Z",
    "2031-01-01T00:00:00.000999Z",
    "2031-01-01T00:00:00.001000Z",
    "2031-01-01T00:00:00.000100Z",
    "2030-12-31T23:59:59.999999Z",
  ];
  await api.database.ownerQuery(
    `insert into audit_logs (action, outcome, target_table, event_timestamp) values ${
      stamps.map((s) => `('read', 'success', 'paging', '${s}')`).join(", ")
    }`,
  );
  const rows = await api.db.select({ id: auditLogs.id }).from(auditLogs).where(eq(auditLogs.targetTable, "paging"))
    .orderBy(auditLogs.id);
  const byTime = rows.map((r, i) => ({ id: r.id, at: stamps[i] }))
    .sort((a, b) => a.at < b.at ? -1 : a.at > b.at ? 1 : a.id - b.id).map((r) => r.id);
  const byId = rows.map((r) => r.id);
  const expected: Record<string, number[]> = {
    "event_timestamp": byTime,
    "-event_timestamp": [...byTime].reverse(),
    "id": byId,
    "-id": [...byId].reverse(),
  };
  for (const [ordering, order] of Object.entries(expected)) {
    await t.step(`ordering=${ordering}, forward then back`, async () => {
      const pages: number[][] = [];
      let link: string | null = `/auditlogs/?target_table=paging&page_size=2&ordering=${ordering}`;
      while (link) {
        const res = await api.request("GET", local(link), { token: access });
        assertEquals(res.status, 200, res.text);
        pages.push((res.body.results as { id: number }[]).map((r) => r.id));
        link = res.body.next as string | null;
        assert(pages.length <= 4, "more pages than rows");
      }
      assertEquals(pages.flat(), order);
      const back: number[][] = [];
      let previous: string | null = `/auditlogs/?target_table=paging&page_size=2&ordering=${ordering}`;
      // Walk forward to the last page again, then follow `previous` to the start.
      for (let i = 0; i < pages.length - 1; i++) {
        previous = (await api.request("GET", local(previous!), { token: access })).body.next as string;
      }
      while (previous) {
        const res = await api.request("GET", local(previous), { token: access });
        back.unshift((res.body.results as { id: number }[]).map((r) => r.id));
        previous = res.body.previous as string | null;
      }
      assertEquals(back.flat(), order);
    });
  }
  await t.step("a forged cursor is 400, not a database error", async () => {
    for (
      const cursor of [
        { o: "-event_timestamp", v: "not a time", i: 1, d: "n" },
        { o: "-event_timestamp", v: 5, i: 1, d: "n" },
        { o: "id", v: "abc", i: 1, d: "n" },
        { o: "id", v: 1.5, i: 1, d: "p" },
      ]
    ) {
      const encoded = base64url.encode(JSON.stringify(cursor));
      const res = await api.request("GET", `/auditlogs/?ordering=${cursor.o}&cursor=${encoded}`, { token: access });
      assertEquals([res.status, res.body.type], [400, "urn:problem-type:patient-portal:invalid-cursor"], res.text);
    }
  });
});

appTest(
  "GET /auditlogs/{id}/ returns every field of the event, and /auditlogs/verify/ is not an id",
  async (_t, api) => {
    const [alice, admin] = [await api.makePatient(), await api.makeAdmin()];
    const at = new Date("2030-05-06T07:08:09.123Z");
    const row = await seed(api, {
      userId: alice.id,
      role: "patient",
      action: "download",
      outcome: "success",
      targetTable: "lab_results",
      targetId: 42,
      patientId: alice.id,
      patientIds: [alice.id],
      details: { file: "x.pdf" },
    }, at);
    const { access } = await api.signIn(admin);
    await api.seal();
    const [sealed] = await api.db.select().from(auditLogs).where(eq(auditLogs.id, row.id));
    const res = await api.request("GET", `/auditlogs/${row.id}/`, { token: access });
    assertEquals(res.status, 200, res.text);
    assertMatch(res.body.row_hash as string, /^[0-9a-f]{64}$/);
    assertEquals(res.body, {
      id: row.id,
      user: alice.id,
      role: "patient",
      action: "download",
      target_table: "lab_results",
      target_id: "42",
      patient: alice.id,
      patient_ids: [alice.id],
      ip_address: ORIGIN.ipAddress,
      user_agent: ORIGIN.userAgent,
      request_id: ORIGIN.requestId,
      client_request_id: null,
      outcome: "success",
      event_timestamp: at.toISOString(),
      details: { file: "x.pdf" },
      appended: false,
      chain_seq: sealed.chainSeq,
      row_hash: sealed.rowHash,
    });
    assertEquals((await api.request("GET", "/auditlogs/999999/", { token: access })).status, 404);
    for (const path of ["/auditlogs/verify/", "/auditlogs/verify"]) {
      const verify = await api.request("GET", path, { token: access });
      assertEquals([verify.status, verify.body.ok], [200, true], verify.text);
    }
  },
);

appTest("a patient or a doctor gets 403 on every audit trail route, and each denial is audited", async (_t, api) => {
  const [alice, doctor, admin] = [await api.makePatient(), await api.makeDoctor(), await api.makeAdmin()];
  await api.signIn(admin);
  const { id } = await lastRow(api);
  for (const who of [alice, doctor]) {
    const { access } = await api.signIn(who);
    for (
      const [method, path, body] of [
        ["GET", "/auditlogs/", undefined],
        ["GET", `/auditlogs/${id}/`, undefined],
        ["GET", "/auditlogs/verify/", undefined],
        ["POST", "/auditlogs/", { action: "read" }],
      ] as const
    ) {
      const before = await countRows(api);
      const res = await api.request(method, path, { token: access, body });
      assertEquals([res.status, res.headers.get("content-type")], [403, PROBLEM], `${method} ${path}`);
      assert(!res.text.includes("row_hash"));
      assertEquals(await countRows(api), before + 1, `${method} ${path} records exactly its denial`);
      const denial = await lastRow(api);
      assertEquals([denial.userId, denial.action, denial.outcome, denial.targetTable], [
        who.id,
        "access_denied",
        "denied",
        "audit_logs",
      ]);
    }
  }
  const res = await api.request("GET", "/auditlogs/");
  assertEquals([res.status, res.headers.get("www-authenticate")], [401, 'Bearer realm="patient-portal"']);
});

appTest("POST /auditlogs/ appends an event recorded as the caller, from the caller's request", async (_t, api) => {
  const [alice, admin] = [await api.makePatient(), await api.makeAdmin()];
  const { access } = await api.signIn(admin);
  const previous = await lastRow(api);
  const res = await api.request("POST", "/auditlogs/", {
    token: access,
    headers: { "user-agent": "records-desk/2.0", "x-request-id": "req-append-1" },
    body: {
      action: "records_release",
      target_table: "patient_profiles",
      target_id: alice.id,
      patient: alice.id,
      details: { reason: "court order", pages: 3 },
    },
  });
  assertEquals(res.status, 201, res.text);
  const { event_timestamp, details, ...rest } = res.body;
  assertEquals(rest, {
    id: previous.id + 1,
    user: admin.id,
    role: "admin",
    action: "records_release",
    appended: true,
    target_table: "patient_profiles",
    target_id: String(alice.id),
    patient: alice.id,
    patient_ids: [alice.id],
    ip_address: "192.0.2.1",
    user_agent: "records-desk/2.0",
    request_id: res.headers.get("x-request-id"),
    client_request_id: "req-append-1",
    outcome: "success",
    chain_seq: null,
    row_hash: null,
  });
  assertEquals(event_timestamp, api.clock.now().toISOString());
  assertEquals((details as Row).reason, "court order");
  assertEquals([(details as Row).pages, (details as Row).method], [3, "POST"]);
  const stored = await lastRow(api);
  assertEquals([stored.id, stored.clientRequestId, stored.userId], [res.body.id, "req-append-1", admin.id]);
  await api.seal();
  const verify = await api.request("GET", "/auditlogs/verify/", { token: access });
  assertEquals([verify.body.ok, verify.body.sealed_rows], [true, stored.id]);
});

appTest("POST /auditlogs/ refuses user, server-owned, unknown and oversized fields with 422", async (t, api) => {
  const [alice, bob, doctor, admin] = [
    await api.makePatient(),
    await api.makePatient(),
    await api.makeDoctor(),
    await api.makeAdmin(),
  ];
  const { access } = await api.signIn(admin);
  const before = (await lastRow(api)).id;
  const cases: [string, Row, string][] = [
    ["a user other than the caller", { action: "note", user: bob.id }, "/user"],
    ["the caller as user (still server-owned)", { action: "note", user: admin.id }, "/user"],
    ["an outcome", { action: "note", outcome: "denied" }, "/outcome"],
    ["a timestamp", { action: "note", event_timestamp: "2020-01-01T00:00:00Z" }, "/event_timestamp"],
    ["an ip address", { action: "note", ip_address: "10.0.0.1" }, "/ip_address"],
    ["a chain position", { action: "note", chain_seq: 1 }, "/chain_seq"],
    ["an id", { action: "note", id: 1 }, "/id"],
    ["a system action, which only the system records", { action: "export" }, "/action"],
    ["an action that is not a lowercase word", { action: "Hack!" }, "/action"],
    ["no action", { target_table: "users" }, "/action"],
    ["a table name that is not one", { action: "note", target_table: "users; drop table users" }, "/target_table"],
    ["a NUL in the target id", { action: "note", target_id: "a\u0000b" }, "/target_id"],
    ["details that are not an object", { action: "note", details: ["x"] }, "/details"],
    ["details over 10 KB", { action: "note", details: { note: "x".repeat(10_300) } }, "/details"],
    [
      "details nested too deep",
      { action: "note", details: JSON.parse('{"a":'.repeat(12) + "1" + "}".repeat(12)) },
      "/details",
    ],
    ["a NUL inside details", { action: "note", details: { note: "a\u0000b" } }, "/details"],
    ["details.route, which the server sets", { action: "note", details: { route: "/fake" } }, "/details/route"],
    ["a patient id that is no patient", { action: "note", patient: doctor.id }, "/patient"],
    ["a patient id as a string", { action: "note", patient: String(alice.id) }, "/patient"],
  ];
  for (const [name, body, pointer] of cases) {
    await t.step(name, async () => {
      const res = await api.request("POST", "/auditlogs/", { token: access, body });
      assertEquals(res.status, 422, res.text);
      const pointers = (res.body.errors as { pointer: string }[]).map((e) => e.pointer);
      assert(pointers.includes(pointer), `${pointers} should include ${pointer}`);
    });
  }
  const added = await api.db.select().from(auditLogs).where(sql`${auditLogs.id} > ${before}`);
  assertEquals(added.filter((r) => r.appended), [], "nothing appended");
  // Every refusal is recorded once: by the schema's validator, or past it (a system action, an unknown patient).
  assertEquals(added.map((r) => [r.action, r.outcome]), cases.map(() => ["create", "denied"]));
});

appTest("PUT, PATCH and DELETE on /auditlogs/{id}/ are 405 for everyone and change nothing", async (t, api) => {
  const [alice, admin] = [await api.makePatient(), await api.makeAdmin()];
  const adminToken = (await api.signIn(admin)).access;
  const aliceToken = (await api.signIn(alice)).access;
  const target = await lastRow(api);
  for (const [who, token] of [["admin", adminToken], ["patient", aliceToken]]) {
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      for (const path of [`/auditlogs/${target.id}/`, `/auditlogs/${target.id}`]) {
        await t.step(`${method} ${path} as ${who}`, async () => {
          const body = method === "DELETE" ? undefined : { outcome: "error", details: {} };
          const res = await api.request(method, path, { token, body });
          assertEquals(res.status, 405, res.text);
          assertEquals([res.headers.get("allow"), res.headers.get("content-type")], ["GET", PROBLEM]);
          assertEquals(res.body.type, "urn:problem-type:patient-portal:method-not-allowed");
          const attempt = await lastRow(api);
          assertEquals([attempt.action, attempt.outcome, attempt.targetTable, attempt.targetId], [
            method === "DELETE" ? "delete" : "update",
            "denied",
            "audit_logs",
            String(target.id),
          ]);
        });
      }
    }
  }
  const [after] = await api.db.select().from(auditLogs).where(eq(auditLogs.id, target.id));
  assertEquals(after, target);
  assertEquals((await api.request("GET", "/auditlogs/verify/", { token: adminToken })).body.ok, true);
  assertEquals((await api.request("DELETE", `/auditlogs/${target.id}/`)).status, 401);

  await t.step("the OpenAPI document lists them", async () => {
    const doc = await api.request("GET", "/openapi.json");
    const item = (doc.body.paths as Record<string, Row>)["/auditlogs/{id}/"];
    assertEquals(["get", "put", "patch", "delete"].filter((m) => m in item), ["get", "put", "patch", "delete"]);
    assert("/auditlogs/verify/" in (doc.body.paths as Row));
  });
});

appTest("GET /auditlogs/verify/ reports a clean trail, then names the row an owner edited", async (_t, api) => {
  const [alice, admin] = [await api.makePatient(), await api.makeAdmin()];
  for (let i = 0; i < 3; i++) await api.signIn(alice);
  const { access } = await api.signIn(admin);
  const rows = await countRows(api);
  await api.seal();
  const clean = await api.request("GET", "/auditlogs/verify/", { token: access });
  const { checkpoint, ...report } = clean.body;
  assertEquals([clean.status, report], [200, {
    ok: true,
    rows,
    first_bad_row: null,
    sealed_rows: rows,
    legacy_rows: 0,
    unsealed: { rows: 0, oldest_id: null, oldest_at: null },
    against_checkpoint: null,
  }]);
  assertEquals((checkpoint as Row).chain_seq, rows);
  const badId = await tamper(api, 2);
  const broken = await api.request("GET", "/auditlogs/verify/", { token: access });
  assertEquals(
    [broken.body.ok, broken.body.rows, broken.body.first_bad_row, broken.body.checkpoint],
    [false, rows + 1, { id: badId, chain_seq: 2 }, null],
    "the earlier verification's record (sealed by tamper()) counts; this one's is written after the count",
  );
});

appTest("the audit:verify check passes an intact trail and names the first altered row", async (_t, api) => {
  const alice = await api.makePatient();
  for (let i = 0; i < 3; i++) await api.signIn(alice);
  await api.seal();
  const intact = await checkAuditTrail(api.db, api.deps.auditKeys);
  assertEquals([intact.code, intact.message.split("\n")[0]], [0, "audit trail verified: 3 rows"]);
  assertMatch(intact.message.split("\n")[1], /^checkpoint cp1\.3\.[0-9a-f]{64}\./);
  const badId = await tamper(api, 2);
  assertEquals(await checkAuditTrail(api.db, api.deps.auditKeys), {
    code: 1,
    message: `audit trail broken at row id ${badId} (chain position 2)`,
  });
});

Deno.test("deno task audit:verify exits 0 on an intact trail, 1 naming an altered row, 2 without a trail", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "portal-audit-cli-" });
  const run = async (env: Record<string, string>, args: string[] = []) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "audit:verify", ...args],
      cwd: new URL("..", import.meta.url).pathname,
      env: { APP_ENV: "test", LOG_LEVEL: "silent", DATA_DIR: dataDir, DATABASE_URL: "", ...env },
      stdin: "null",
    }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  };
  try {
    const empty = await run({ DATABASE_URL: "memory://" });
    assertEquals(empty.code, 2, empty.stderr);
    assertStringIncludes(empty.stderr, "run `deno task migrate` first");

    let handle = await openDatabase({ dataDir });
    await handle.migrate();
    for (let i = 0; i < 3; i++) {
      await seedAudit(handle.db, ORIGIN, { action: "login", outcome: "success", targetTable: "users" });
    }
    await handle.close();
    const keyless = await run({});
    assertEquals(keyless.code, 2, keyless.stdout);
    assertStringIncludes(keyless.stderr, "AUDIT_HMAC_KEY is not set");
    // The development key, generated into DATA_DIR as the server does on first start.
    const keys = await loadAuditKey({ APP_ENV: "development", DATA_DIR: dataDir });
    handle = await openDatabase({ dataDir });
    const { checkpoint } = await sealAuditTrail(handle.db, keys);
    await handle.close();
    const intact = await run({});
    assertEquals([intact.code, intact.stdout.split("\n")[0]], [0, "audit trail verified: 3 rows"], intact.stderr);
    assertStringIncludes(intact.stdout, `checkpoint cp1.3.`);
    const key = (await Deno.readTextFile(`${dataDir}/audit_hmac_key`)).trim();
    const fromEnv = await run({ AUDIT_HMAC_KEY: key, DATA_DIR: `${dataDir}/elsewhere` });
    assertEquals(fromEnv.code, 2, "another data directory has no database with the trail");
    const wrongKey = await run({ AUDIT_HMAC_KEY: btoa("k".repeat(32)) });
    assertEquals(wrongKey.code, 1, "a trail sealed with another key does not verify");

    handle = await openDatabase({ dataDir });
    await handle.db.execute(sql.raw("ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_or_delete"));
    await handle.db.execute(sql.raw("DELETE FROM audit_logs WHERE chain_seq = 3"));
    await handle.close();
    const cut = await run({}, ["--checkpoint", checkpoint!.token]);
    assertEquals(
      [cut.code, cut.stderr.trim()],
      [1, "audit trail does not reach checkpoint 3 unchanged: rows were cut off the end"],
      cut.stdout,
    );
    assertEquals((await run({})).code, 0, "without the checkpoint, a shorter chain cannot be told apart");

    handle = await openDatabase({ dataDir });
    await handle.db.execute(sql.raw("UPDATE audit_logs SET outcome = 'denied' WHERE chain_seq = 2"));
    await handle.db.execute(sql.raw("ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_or_delete"));
    const [bad] = await handle.db.select({ id: auditLogs.id }).from(auditLogs).where(eq(auditLogs.chainSeq, 2));
    await handle.close();
    const broken = await run({});
    assertEquals(
      [broken.code, broken.stderr.trim()],
      [1, `audit trail broken at row id ${bad.id} (chain position 2)`],
      broken.stdout,
    );
    const forged = await run({}, ["--checkpoint", checkpoint!.token.replace("cp1.3.", "cp1.2.")]);
    assertEquals([forged.code, forged.stderr.trim()], [2, "the checkpoint is malformed or not signed with this key"]);
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

async function accessLog(api: TestApp, who: Actor, query = "") {
  const res = await api.request("GET", `/me/access-log/${query}`, { token: (await api.signIn(who)).access });
  assertEquals(res.status, 200, res.text);
  return res.body as { next: string | null; results: Row[] };
}

appTest(
  "GET /me/access-log/ shows who read the patient's record, with name and role, and nothing else",
  async (t, api) => {
    const [alice, bob, doctor, admin] = [
      await api.makePatient(),
      await api.makePatient(),
      await api.makeDoctor(),
      await api.makeAdmin(),
    ];
    await putUnderCare(api, doctor, alice);
    await putUnderCare(api, doctor, bob);
    const doctorToken = (await api.signIn(doctor)).access;
    assertEquals((await api.request("GET", `/patients/${alice.id}/`, { token: doctorToken })).status, 200);
    api.clock.advance(60);
    assertEquals((await api.request("GET", `/patients/${bob.id}/`, { token: doctorToken })).status, 200);
    api.clock.advance(60);
    const aliceToken = (await api.signIn(alice)).access;
    assertEquals((await api.request("GET", `/patients/${alice.id}/`, { token: aliceToken })).status, 200);

    await t.step("the doctor's read, then the patient's own, newest first", async () => {
      const page = await accessLog(api, alice);
      assertEquals(page.results.map(({ id: _, ...rest }) => rest), [
        {
          when: api.clock.now().toISOString(),
          who: { id: alice.id, name: `Pat ${alice.username}`, role: "patient" },
          action: "read",
          part: "patient_profiles",
          outcome: "success",
          by_you: true,
        },
        {
          when: new Date(api.clock.now().getTime() - 120_000).toISOString(),
          who: { id: doctor.id, name: `Doc ${doctor.username}`, role: "doctor" },
          action: "read",
          part: "patient_profiles",
          outcome: "success",
          by_you: false,
        },
      ]);
      assert(!JSON.stringify(page).includes("192.0.2.1"), "no IP address");
    });
    await t.step("another patient sees only their own events", async () => {
      const page = await accessLog(api, bob);
      assertEquals(page.results.map((r) => (r.who as Row).id), [doctor.id]);
    });
    await t.step(
      "viewing the access log, and an admin's search of the trail for the patient, show up too",
      async () => {
        api.clock.advance(60);
        const adminToken = (await api.signIn(admin)).access;
        assertEquals((await api.request("GET", `/auditlogs/?patient=${alice.id}`, { token: adminToken })).status, 200);
        const [search, ownView] = (await accessLog(api, alice)).results;
        assertEquals([search.who, search.action, search.part, search.by_you], [
          { id: admin.id, name: admin.username, role: "admin" },
          "list",
          "audit_logs",
          false,
        ]);
        assertEquals([ownView.action, ownView.part, ownView.by_you], ["list", "audit_logs", true]);
      },
    );
  },
);

appTest(
  "GET /me/access-log/ pages newest first with the same number of statements for 2 or 60 events",
  async (_t, api) => {
    const alice = await api.makePatient();
    const doctors = [await api.makeDoctor(), await api.makeDoctor(), await api.makeDoctor()];
    const { access } = await api.signIn(alice);
    const statements = async (query: string) => {
      api.database.queries.length = 0;
      const res = await api.request("GET", `/me/access-log/${query}`, { token: access });
      assertEquals(res.status, 200, res.text);
      return api.database.queries.length;
    };
    const base = api.clock.now().getTime();
    const event = (i: number) =>
      seed(api, {
        userId: doctors[i % 3].id,
        role: "doctor",
        action: "read",
        outcome: "success",
        targetTable: "prescriptions",
        patientIds: [alice.id],
      }, new Date(base - i * 1000));
    for (let i = 0; i < 2; i++) await event(i);
    const few = await statements("?page_size=200");
    for (let i = 2; i < 60; i++) await event(i);
    const many = await statements("?page_size=200");
    assertEquals(many, few);

    const seen: number[] = [];
    let link: string | null = "/me/access-log/?page_size=25";
    while (link) {
      const res = await api.request("GET", local(link), { token: access });
      seen.push(...(res.body.results as { id: number }[]).map((r) => r.id));
      link = res.body.next as string | null;
    }
    assertEquals(new Set(seen).size, seen.length, "no repeats");
    assert(seen.length >= 62, `${seen.length} events`);
  },
);

appTest(
  "POST /auditlogs/ takes the original's free-form events: any word but a system action, text details",
  async (_t, api) => {
    const admin = await api.makeAdmin();
    const { access } = await api.signIn(admin);
    const res = await api.request("POST", "/auditlogs/", {
      token: access,
      body: { action: "shift_handover_note", target_table: "ward", details: "Bed 4 needs a fall-risk review" },
    });
    assertEquals(res.status, 201, res.text);
    assertEquals([res.body.action, res.body.appended, res.body.outcome, res.body.user], [
      "shift_handover_note",
      true,
      "success",
      admin.id,
    ]);
    assertEquals((res.body.details as Row).text, "Bed 4 needs a fall-risk review");
    const stored = await lastRow(api);
    assertEquals([stored.action, stored.appended], ["shift_handover_note", true]);
    // The system's own records can never be forged, not even by writing the row directly as appended.
    const forged = await api.request("POST", "/auditlogs/", { token: access, body: { action: "login" } });
    assertEquals([forged.status, (forged.body.errors as { pointer: string }[])[0].pointer], [422, "/action"]);
    const verify = await api.request("GET", "/auditlogs/verify/", { token: access });
    assertEquals(verify.body.ok, true);
  },
);
