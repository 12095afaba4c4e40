/**
 * Figures for the real-time stream and messaging: the memory one instance spends per idle stream,
 * and the requests per second of a 50-message list. Starts the API (as `deno task start` does) on
 * DATABASE_URL (Postgres through NEON_WS_PROXY, or the embedded database in memory by default).
 *
 *   deno run -A scripts/bench_streams.ts [streams=500] [seconds=10]   (needs wrk)
 */
import { createAccount } from "../db/users.ts";
import { generateSigningJwk } from "../services/access_tokens.ts";
import { hashPassword } from "../services/passwords.ts";
import { openDatabase } from "../db/client.ts";
import { putUnderCareForBench } from "./bench_seed_care.ts";
import { exitUnlessWrk } from "./bench_wrk.ts";

await exitUnlessWrk("scripts/bench_streams.ts");

const streams = Number(Deno.args[0] ?? 500);
const seconds = Number(Deno.args[1] ?? 10);
const url = Deno.env.get("DATABASE_URL");
const dataDir = await Deno.makeTempDir();
const password = "bench passphrase 2026";
const port = 8200 + Math.floor(Math.random() * 500);

// A file-backed embedded database lets the server and this script share it (one after the other).
const handle = await openDatabase({ url, dataDir, wsProxy: Deno.env.get("NEON_WS_PROXY") });
await handle.migrate();
const hash = await hashPassword(password);
const suffix = crypto.randomUUID().slice(0, 6);
const patient = await createAccount(handle.db, {
  username: `p${suffix}`,
  email: `p${suffix}@x.test`,
  passwordHash: hash,
  roleNames: ["patient"],
  patientProfile: {},
});
const doctor = await createAccount(handle.db, {
  username: `d${suffix}`,
  email: `d${suffix}@x.test`,
  passwordHash: hash,
  roleNames: ["doctor"],
});
await putUnderCareForBench(handle.db, doctor.id, patient.id);
await handle.close();

const task = JSON.parse(await Deno.readTextFile("deno.json")).tasks.start.split(/\s+/).slice(1);
const server = new Deno.Command(Deno.execPath(), {
  args: task,
  env: {
    ...Deno.env.toObject(),
    PORT: String(port),
    DATA_DIR: dataDir,
    JWT_PRIVATE_KEY: await generateSigningJwk(),
    LOG_LEVEL: "error",
    RATE_LIMIT_LOGIN_PER_IP: "100000",
  },
  stdout: "null",
  stderr: "inherit",
}).spawn();
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch(`${base}/health`)).ok) break;
  } catch { /* starting */ }
  await new Promise((r) => setTimeout(r, 200));
}
const token = async (username: string) =>
  (await (await fetch(`${base}/token/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  })).json()).access;
const [patientToken, doctorToken] = [await token(patient.username), await token(doctor.username)];
for (let i = 0; i < 50; i++) {
  await fetch(`${base}/messages/`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${i % 2 ? patientToken : doctorToken}` },
    body: JSON.stringify({ receiver: i % 2 ? doctor.id : patient.id, message_body: `message ${i} `.repeat(10) }),
  }).then((r) => r.body?.cancel());
}
const rss = async () =>
  Number((await Deno.readTextFile(`/proc/${server.pid}/status`)).match(/VmRSS:\s+(\d+)/)![1]) / 1024;
await new Promise((r) => setTimeout(r, 1000));
const before = await rss();
const open: ReadableStreamDefaultReader[] = [];
for (let i = 0; i < streams; i++) {
  const res = await fetch(`${base}/notifications/stream/`, { headers: { authorization: `Bearer ${patientToken}` } });
  const reader = res.body!.getReader();
  await reader.read();
  open.push(reader);
}
await new Promise((r) => setTimeout(r, 2000));
const after = await rss();
console.log(
  `${streams} idle streams: RSS ${before.toFixed(1)} → ${after.toFixed(1)} MiB, ${
    ((after - before) * 1024 / streams).toFixed(1)
  } KiB per stream`,
);
for (const reader of open) await reader.cancel();
const out = await new Deno.Command("wrk", {
  args: [
    "-t2",
    "-c32",
    `-d${seconds}s`,
    "-H",
    `Authorization: Bearer ${patientToken}`,
    `${base}/messages/?page_size=50`,
  ],
  stdout: "piped",
}).output();
const text = new TextDecoder().decode(out.stdout);
console.log(
  `GET /messages/?page_size=50 (wrk -t2 -c32 -d${seconds}s): ${text.match(/Requests\/sec:\s+([\d.]+)/)?.[1]} req/s, ` +
    `non-2xx: ${text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0}`,
);
server.kill("SIGTERM");
await server.status;
await Deno.remove(dataDir, { recursive: true }).catch(() => {});
