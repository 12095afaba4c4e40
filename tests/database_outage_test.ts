/**
 * The database goes away under write load and comes back: the API process stays up, answers 503
 * problem+json while it is away, serves again within a second of the restart, and no acknowledged
 * write is lost or doubled (clients retry with the same Idempotency-Key). A throwaway cluster,
 * the API as its own process under `deno task start`'s permissions.
 */
import { assert, assertEquals } from "@std/assert";
import { sql } from "drizzle-orm";
import { openDatabase, queryRows } from "../db/client.ts";
import { configureNeonForProxy } from "../db/neon.ts";
import { doctorProfiles } from "../db/schema.ts";
import { generateSigningJwk } from "../services/access_tokens.ts";
import { hashPassword } from "../services/passwords.ts";
import { createAccount } from "../db/users.ts";
import { startWsProxy } from "../scripts/ws_tcp_proxy.ts";
import { type Cluster, startCluster } from "./_cluster.ts";
import { DRIVER } from "./_db.ts";
import { startServer } from "./_server.ts";

const PASSWORD = "outage drill: keep calm";
const WRITERS = 8;
const PROBLEM = "application/problem+json";
const UNAVAILABLE = "urn:problem-type:patient-portal:database-unavailable";

interface Answer {
  status: number;
  type?: string;
  contentType: string | null;
  retryAfter?: string | null;
  at: number;
  /** How long the request took, in milliseconds. */
  took: number;
  id?: number;
}
interface Write {
  key: string;
  kind: "appointment" | "prescription";
  marker: string;
  acknowledged?: number;
}

Deno.test({
  name: DRIVER === "pglite"
    ? "database outage: skipped on PGlite (in-process, nothing to lose); runs with TEST_DATABASE_URL"
    : "the API survives Postgres stopping (-m immediate) and its postmaster being killed, losing and doubling nothing",
  ignore: DRIVER === "pglite",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const started = Date.now();
    const cluster = await startCluster();
    const proxy = await startWsProxy({ allowed: [`127.0.0.1:${cluster.port}`] });
    const dataDir = await Deno.makeTempDir({ prefix: "portal-outage-" });
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      const { patient, doctor } = await prepare(cluster, proxy.port);
      server = await startServer({
        APP_ENV: "test",
        DATABASE_URL: cluster.url("portal"),
        NEON_WS_PROXY: `127.0.0.1:${proxy.port}`,
        DATA_DIR: dataDir,
        JWT_PRIVATE_KEY: await generateSigningJwk(),
        LOG_LEVEL: "info",
        RATE_LIMIT_LOGIN_PER_IP: "100000",
        DB_CONNECT_TIMEOUT_MS: "2000",
      });
      const api = server;
      const tokens = { patient: await signIn(api.url, patient), doctor: await signIn(api.url, doctor) };
      const figures: string[] = [];
      for (const mode of ["immediate", "sigkill"] as const) {
        await t.step(
          `Postgres ${mode === "immediate" ? "stopped with -m immediate" : "postmaster killed"}`,
          async () => {
            const run = await outage(api.url, tokens, { patient: patient.id, doctor: doctor.id }, cluster, mode);
            assert(api.alive(), "the API process is alive");
            const health = await fetch(`${api.url}/health`);
            assertEquals(health.status, 200, "/health stays 200");
            await health.body?.cancel();
            const db = await openDatabase({ url: cluster.url("portal"), dataDir: "" });
            try {
              const lost: string[] = [];
              const doubled: string[] = [];
              for (const w of run.writes) {
                const table = w.kind === "appointment" ? "appointments" : "prescriptions";
                const column = w.kind === "appointment" ? "reason" : "medication";
                const [{ n }] = await queryRows<{ n: number }>(
                  db.db,
                  sql`select count(*)::int as n from ${sql.identifier(table)} where ${
                    sql.identifier(column)
                  } = ${w.marker}`,
                );
                if (w.acknowledged !== undefined && Number(n) !== 1) lost.push(`${w.key}: ${n} rows`);
                if (Number(n) > 1) doubled.push(`${w.key}: ${n} rows`);
              }
              assertEquals(lost, [], "every acknowledged write is committed");
              assertEquals(doubled, [], "no key has two rows");
            } finally {
              await db.close();
            }
            const failures = run.answers.filter((a) => a.status < 200 || a.status >= 300);
            const wrong = failures.filter((a) =>
              a.status !== 503 || a.contentType !== PROBLEM || a.type !== UNAVAILABLE ||
              !/^[1-9]\d*$/.test(a.retryAfter ?? "")
            );
            assertEquals(
              wrong.map((a) => `${a.status} ${a.type} Retry-After ${a.retryAfter}`),
              [],
              `every failure is 503 database-unavailable with Retry-After: ${
                wrong.slice(0, 5).map((a) => `${a.status} ${a.type}`)
              }`,
            );
            const during = failures.filter((a) => a.at >= run.stoppedAt && a.at <= run.restartedAt).length;
            assert(during > 0, "requests were refused during the outage");
            const firstSuccess = run.answers.find((a) => a.status < 300 && a.at >= run.restartedAt);
            assert(firstSuccess, "a write succeeded after the restart");
            const recovery = firstSuccess.at - run.restartedAt;
            assert(recovery <= 1000, `first success ${recovery} ms after the restart`);
            assertEquals([run.ready, run.health], [503, 200], "during the outage /ready is 503 and /health 200");
            const slowest = Math.max(...failures.map((a) => a.took));
            assert(slowest < 3000, `a refused request took ${slowest} ms (bounded by the 2 s connect timeout)`);
            const acknowledged = run.writes.filter((w) => w.acknowledged !== undefined).length;
            figures.push(
              `${mode}: ${run.writes.length} writes, ${acknowledged} acknowledged, 0 lost, 0 doubled, ` +
                `${failures.length} × 503 (${during} during the ${run.restartedAt - run.stoppedAt} ms outage), ` +
                `slowest 503 ${slowest} ms, first success ${recovery} ms after restart`,
            );
          },
        );
      }
      const lostLines = api.logs.filter((l) => l.msg === "database unavailable").length;
      const backLines = api.logs.filter((l) => l.msg === "database available again").length;
      const transitions = api.logs.filter((l) => /^database (unavailable|available again)$/.test(String(l.msg)))
        .map((l) => `${l.time} ${l.msg} ${l.error ?? ""}`);
      assertEquals([lostLines, backLines], [2, 2], `once per outage each way:\n${transitions.join("\n")}`);
      assertEquals(
        api.logs.filter((l) => l.level === "error" && l.msg !== "request").map((l) =>
          `${l.msg} ${l.error ?? ""} ${l.stack ?? ""}`
        ),
        [],
      );
      const total = Date.now() - started;
      console.log(`database outage: ${figures.join("; ")}; ${total} ms in all`);
      assert(total < 60_000, `the fault test took ${total} ms, over a minute`);
    } finally {
      await server?.stop("SIGKILL");
      await proxy.close();
      await cluster.destroy();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

async function prepare(cluster: Cluster, proxyPort: number) {
  configureNeonForProxy(`127.0.0.1:${proxyPort}`);
  const admin = await openDatabase({ url: cluster.url("postgres"), dataDir: "" });
  await admin.db.execute(sql`create database portal`);
  await admin.close();
  const handle = await openDatabase({ url: cluster.url("portal"), dataDir: "" });
  try {
    await handle.migrate();
    const passwordHash = await hashPassword(PASSWORD);
    const patient = await createAccount(handle.db, {
      username: "outage-patient",
      email: "outage-patient@example.test",
      passwordHash,
      roleNames: ["patient"],
      patientProfile: { firstName: "Out", lastName: "Age" },
    });
    const doctor = await createAccount(handle.db, {
      username: "outage-doctor",
      email: "outage-doctor@example.test",
      passwordHash,
      roleNames: ["doctor"],
    });
    await handle.db.insert(doctorProfiles).values({ userId: doctor.id, firstName: "Doc", lastName: "Outage" });
    return { patient, doctor };
  } finally {
    await handle.close();
  }
}

async function signIn(base: string, user: { username: string }): Promise<string> {
  const res = await fetch(`${base}/token/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: user.username, password: PASSWORD }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(body)}`);
  return body.access;
}

let serial = 0;

/**
 * Writers book appointments (as the patient) and write prescriptions (as the doctor, for that
 * patient, who is under care once the first booking lands), each logical write with its own
 * Idempotency-Key, retried with the same key until acknowledged. One second in, Postgres goes
 * away for two seconds; the writers go on until two seconds after it is back.
 */
async function outage(
  base: string,
  tokens: { patient: string; doctor: string },
  ids: { patient: number; doctor: number },
  cluster: Cluster,
  mode: "immediate" | "sigkill",
) {
  const answers: Answer[] = [];
  const writes: Write[] = [];
  let stop = false;
  const send = async (w: Write): Promise<Answer> => {
    const n = Number(w.marker.split("-").pop());
    const body = w.kind === "appointment"
      ? {
        doctor: ids.doctor,
        appointment_date: new Date(Date.UTC(2040, 0, 1) + n * 3600_000).toISOString(),
        reason: w.marker,
      }
      : { patient: ids.patient, medication: w.marker, dosage: "1 tablet", frequency: "daily" };
    const sent = Date.now();
    const res = await fetch(`${base}/${w.kind === "appointment" ? "appointments" : "prescriptions"}/`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${w.kind === "appointment" ? tokens.patient : tokens.doctor}`,
        "idempotency-key": w.key,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const json = await res.json().catch(() => ({}));
    return {
      status: res.status,
      type: json.type,
      contentType: res.headers.get("content-type"),
      retryAfter: res.headers.get("retry-after"),
      at: Date.now(),
      took: Date.now() - sent,
      id: json.id,
    };
  };
  const writer = async (index: number) => {
    while (!stop) {
      const kind = index % 2 === 0 ? "appointment" : "prescription";
      const w: Write = { key: crypto.randomUUID(), kind, marker: `${kind}-${mode}-${++serial}` };
      writes.push(w);
      while (w.acknowledged === undefined && !stop) {
        const answer: Answer = await send(w).catch((e) => ({
          status: 0,
          type: String(e),
          contentType: null,
          at: Date.now(),
          took: 0,
        }));
        answers.push(answer);
        if (answer.status >= 200 && answer.status < 300) w.acknowledged = answer.id;
        else await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  // The first booking puts the patient under the doctor's care, so prescriptions can follow.
  const seed: Write = { key: crypto.randomUUID(), kind: "appointment", marker: `appointment-${mode}-${++serial}` };
  writes.push(seed);
  const seeded = await send(seed);
  if (seeded.status === 201) seed.acknowledged = seeded.id;
  const running = Array.from({ length: WRITERS }, (_, i) => writer(i));
  await new Promise((r) => setTimeout(r, 1000));
  const stoppedAt = Date.now();
  if (mode === "immediate") await cluster.stopImmediate();
  else await cluster.killPostmaster();
  await new Promise((r) => setTimeout(r, 1000));
  const probes = await Promise.all(["/ready", "/health"].map((p) =>
    fetch(`${base}${p}`).then(async (r) => {
      await r.body?.cancel();
      return r.status;
    })
  ));
  await new Promise((r) => setTimeout(r, 1000));
  await cluster.start();
  const restartedAt = Date.now();
  await new Promise((r) => setTimeout(r, 2000));
  stop = true;
  await Promise.all(running);
  return { answers, writes, stoppedAt, restartedAt, ready: probes[0], health: probes[1] };
}
