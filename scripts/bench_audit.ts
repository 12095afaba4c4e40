/**
 * The cost of the audit trail: requests per second of `GET /patients/{id}/` (audited: a
 * transaction with the hash-chained audit insert) against the same read without the audit write
 * (a bench-only route with the same authentication, permission and scoped query), served on one
 * port and measured alternately with wrk in one run.
 *
 *   deno run -A scripts/bench_audit.ts [rounds=3] [seconds=5]   (needs wrk; DATABASE_URL as for the app)
 */
import { createApp } from "../app.ts";
import { loadConfig } from "../config.ts";
import { findPatient } from "../db/patients.ts";
import { checkAccess } from "../middleware/access.ts";
import { authenticate } from "../middleware/authenticate.ts";
import { buildDeps } from "../services/deps.ts";
import { hashPassword } from "../services/passwords.ts";
import { createAccount } from "../db/users.ts";
import { exitUnlessWrk } from "./bench_wrk.ts";

await exitUnlessWrk("scripts/bench_audit.ts");

const rounds = Number(Deno.args[0] ?? 3);
const seconds = Number(Deno.args[1] ?? 5);
const dataDir = await Deno.makeTempDir();
const config = loadConfig({
  ...Deno.env.toObject(),
  DATABASE_URL: Deno.env.get("DATABASE_URL") ?? "memory://",
  DATA_DIR: dataDir,
  LOG_LEVEL: "silent",
  RATE_LIMIT_LOGIN_PER_IP: "100000",
});
const { deps, handle } = await buildDeps(config, { migrate: true });
const password = "bench passphrase 2026";
const suffix = crypto.randomUUID().slice(0, 8);
const user = await createAccount(deps.db, {
  username: `bench_${suffix}`,
  email: `bench_${suffix}@example.test`,
  passwordHash: await hashPassword(password),
  roleNames: ["patient"],
  patientProfile: { firstName: "Bench", lastName: "Patient" },
});
const app = createApp(deps);
app.get(
  "/bench/patients/:id",
  authenticate(),
  checkAccess({ kind: "permission", permission: "patients:read", any: "patients:read:any", policy: "patients:care" }),
  async (c) => {
    const row = await findPatient(deps.db, c.get("scope") as never, Number(c.req.param("id")));
    return row ? c.json(row) : c.json({}, 404);
  },
);
const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req, info) => app.fetch(req, info));
const base = `http://127.0.0.1:${server.addr.port}`;
const login = await fetch(`${base}/token/`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ username: user.username, password }),
});
const { access } = await login.json();

async function wrk(path: string): Promise<{ rps: number; non2xx: number }> {
  const out = await new Deno.Command("wrk", {
    args: ["-t2", "-c32", `-d${seconds}s`, "-H", `Authorization: Bearer ${access}`, `${base}${path}`],
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? 0);
  const non2xx = Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  return { rps, non2xx };
}

const audited: number[] = [];
const plain: number[] = [];
for (let i = 0; i < rounds; i++) {
  for (const [path, into] of [[`/patients/${user.id}/`, audited], [`/bench/patients/${user.id}`, plain]] as const) {
    const { rps, non2xx } = await wrk(path);
    if (non2xx) throw new Error(`${path}: ${non2xx} non-2xx responses`);
    into.push(rps);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`driver: ${handle.driver}; wrk -t2 -c32 -d${seconds}s, ${rounds} alternating rounds`);
console.log(
  `GET /patients/{id}/ with the audit write:    ${audited.map((r) => r.toFixed(0)).join(" / ")} req/s (median ${
    median(audited).toFixed(0)
  })`,
);
console.log(
  `same read without the audit write:          ${plain.map((r) => r.toFixed(0)).join(" / ")} req/s (median ${
    median(plain).toFixed(0)
  })`,
);
console.log(`ratio audited / unaudited: ${(median(audited) / median(plain)).toFixed(2)}`);
await server.shutdown();
await handle.close();
await Deno.remove(dataDir, { recursive: true });
