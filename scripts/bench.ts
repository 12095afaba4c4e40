/**
 * `deno task bench`: the API on a throwaway Postgres database, seeded, measured with wrk, one table.
 * Scenarios: sign-in, the 200-row appointment and patient lists, booking, an audited one-row read,
 * audited booking at 8 / 32 / 64 connections, and the bare driver (postgres.js, no HTTP) running the
 * one-row read and the 200-row list at the same concurrency. Columns: requests/s, p50, p99, bytes per
 * response, app CPU per request (user+system time of the API process / requests), non-2xx.
 * Not a test; CI does not run it. Needs wrk and a Postgres that may CREATE DATABASE.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test BENCH_SECONDS=10 deno task bench
 *   BENCH_TASK=start (default) or start:parallel | BENCH_DRIVER=neon (the Neon driver through the in-process ws proxy)
 *   BENCH_DRIVER=pglite: the embedded database in a temporary DATA_DIR (no bare-driver rows)
 */
import postgres from "postgres";
import { freePort } from "../tests/_cluster.ts";
import { startServer } from "../tests/_server.ts";
import { startWsProxy } from "./ws_tcp_proxy.ts";
import { seedBench } from "./bench_data.ts";
import { exitUnlessWrk, type Row, table, wrk } from "./bench_wrk.ts";

await exitUnlessWrk("deno task bench");

const seconds = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const base = new URL(Deno.env.get("BENCH_DATABASE_URL") ?? "postgres://postgres@127.0.0.1:5432/test");
const driver = Deno.env.get("BENCH_DRIVER") ?? "postgres";
const name = `portal_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
const embedded = driver === "pglite";
const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
if (!embedded) await admin.unsafe(`create database ${name}`);
const url = new URL(base);
url.pathname = `/${name}`;
const dataDir = await Deno.makeTempDir({ prefix: "portal-bench-" });
const proxy = driver === "neon" ? await startWsProxy({ allowed: [`${url.hostname}:${url.port || 5432}`] }) : null;
const task = Deno.env.get("BENCH_TASK") ?? "start";
const port = freePort();
const env: Record<string, string> = {
  APP_ENV: "development",
  ...(embedded ? {} : { DATABASE_URL: url.toString(), DATABASE_DRIVER: driver }),
  DATA_DIR: dataDir,
  LOG_LEVEL: "warn",
  PORT: String(port),
  // `deno serve` (start:parallel) takes its address from here, not PORT.
  DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
  RATE_LIMIT_LOGIN_PER_IP: "100000000",
  RATE_LIMIT_LOGIN_PER_USER: "100000000",
  ...(proxy ? { NEON_WS_PROXY: `127.0.0.1:${proxy.port}` } : {}),
};
const rows: Row[] = [];
let server: Awaited<ReturnType<typeof startServer>> | undefined;
try {
  const seed = await seedBench(embedded ? { dataDir } : { url: url.toString() });
  server = await startServer(env, { task });
  const api = server.url;
  const pid = await serverPid(server.port);
  console.error(`# API pid ${pid}: deno task ${task}, driver ${driver}`);
  const signIn = async (username: string) => {
    const res = await fetch(`${api}/token/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: seed.password }),
    });
    return (await res.json()).access as string;
  };
  const [patientToken, adminToken] = [await signIn(seed.patient.username), await signIn(seed.admin.username)];
  type Opts = Parameters<typeof wrk>[2];
  const only = Deno.env.get("BENCH_ONLY");
  const run = async (label: string, path: string, opts: Opts | (() => Opts) = {}) => {
    if (only && !label.includes(only)) return;
    const options = typeof opts === "function" ? opts : () => opts;
    await wrk(api, path, { ...options(), seconds: 2, quiet: true }); // warm-up
    const before = await cpuMs(pid);
    const result = await wrk(api, path, { ...options(), seconds });
    const cpu = (await cpuMs(pid)) - before;
    rows.push({ label, ...result, cpuPerRequest: result.requests ? cpu / result.requests : 0 });
    console.error(`# ${label}: ${result.rps.toFixed(1)} req/s`);
  };
  let slot = 0;
  const booking = (connections: number) => ({
    connections,
    token: patientToken,
    method: "POST",
    // Each request its own hour, far from the seeded ones (wrk's Lua counter per thread).
    lua: bookingLua(seed.doctor.id, Date.UTC(2034, 0, 1) / 1000 + (slot++) * 300_000 * 3600),
  });
  await run("POST /token/", "/token/", {
    method: "POST",
    body: JSON.stringify({ username: seed.patient.username, password: seed.password }),
  });
  // Each bare-driver row runs right after the API scenario it is compared with, on the same data
  // and in the same state (before the bookings grow the table and the sealer has them to seal).
  const runBare = async (label: string, kind: "one" | "list") => {
    if (embedded || (only && !label.includes(only))) return;
    rows.push(await bare(label, url.toString(), seed.patient.id, kind));
  };
  await run("GET /appointments/?page_size=200", "/appointments/?page_size=200", { token: patientToken });
  await runBare("bare driver: 200-row appointment list", "list");
  await run("GET /patients/?page_size=200", "/patients/?page_size=200", { token: adminToken });
  await run("GET /patients/{id}/ (audited one-row read)", `/patients/${seed.patient.id}/`, { token: patientToken });
  await runBare("bare driver: one-row read", "one");
  await run("POST /appointments/", "/appointments/", () => booking(32));
  for (const c of [8, 32, 64]) {
    await run(`POST /appointments/ (audited create, c=${c})`, "/appointments/", () => booking(c));
  }
  const rss = await peakRss(pid);
  console.log(table(rows, { driver: `${driver}, deno task ${task}`, seconds, rssMiB: rss }));
} finally {
  await server?.stop("SIGTERM");
  await proxy?.close();
  if (!embedded) await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
  await admin.end();
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}

function bookingLua(doctor: number, firstEpoch: number): string {
  return `local n = 0
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
request = function()
  n = n + 1
  local ts = os.date("!%Y-%m-%dT%H:%M:%SZ", ${firstEpoch} + (tid * 100000 + n) * 3600)
  local body = '{"doctor":${doctor},"appointment_date":"' .. ts .. '","duration_minutes":30,"reason":"bench"}'
  return wrk.format("POST", nil, nil, body)
end`;
}

/** The API's pid: the process listening on the port (from /proc, Linux). */
async function serverPid(port: number): Promise<number> {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const tcp = await Deno.readTextFile("/proc/net/tcp");
  const inode = tcp.split("\n").find((l) => l.split(/\s+/)[2]?.endsWith(`:${hex}`) && l.split(/\s+/)[4] === "0A")
    ?.trim().split(/\s+/)[9];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${entry.name}/fd`)) {
        if (Deno.readLinkSync(`/proc/${entry.name}/fd/${fd.name}`) === `socket:[${inode}]`) return Number(entry.name);
      }
    } catch { /* not ours */ }
  }
  throw new Error(`no process listens on ${port}`);
}

/** User + system CPU of a process, in milliseconds. */
async function cpuMs(pid: number): Promise<number> {
  const stat = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1].split(" ");
  return (Number(stat[11]) + Number(stat[12])) * 10; // clock ticks of 10 ms
}

async function peakRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
}

/** The same reads as the API's, straight through postgres.js from 32 callers, no HTTP, no audit. */
async function bare(label: string, dbUrl: string, patientId: number, kind: "one" | "list"): Promise<Row> {
  const sql = postgres(dbUrl, { max: 10, onnotice: () => {} });
  const query = () =>
    kind === "one"
      ? sql`select * from patient_profiles where user_id = ${patientId}`
      : sql`select * from appointments where patient_id = ${patientId} order by appointment_date, id limit 201`;
  const latencies: number[] = [];
  let bytes = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const result = await query();
      latencies.push(performance.now() - t);
      if (latencies.length < 100) bytes = JSON.stringify(result).length;
    }
  }));
  await sql.end();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
  return {
    label,
    connections: 32,
    rps: latencies.length / seconds,
    requests: latencies.length,
    p50: at(0.5),
    p99: at(0.99),
    bytes,
    non2xx: 0,
    cpuPerRequest: 0,
  };
}
