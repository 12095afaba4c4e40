/**
 * Measures the cost of one password hash, one verification and one full sign-in (POST /token/
 * through the app on an in-memory PGlite), as medians, and how many hashes a second the hasher's
 * queue gets through on this machine. `deno run -A scripts/bench_auth.ts [runs]`
 */
import { createApp } from "../app.ts";
import { loadConfig } from "../config.ts";
import { ARGON2ID } from "../services/argon2_params.ts";
import { HASH_CONCURRENCY, hashPassword, verifyPassword } from "../services/passwords.ts";
import { buildDeps } from "../services/deps.ts";
import { createAccount } from "../db/users.ts";

const runs = Number(Deno.args[0] ?? 30);
const password = "bench passphrase 2026";

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const hash = await hashPassword(password);
const hashMs = await median(() => hashPassword(password));
const verifyMs = await median(() => verifyPassword(hash, password));
const started = performance.now();
await Promise.all(Array.from({ length: runs }, () => hashPassword(password)));
const hashesPerSecond = runs / ((performance.now() - started) / 1000);

const dataDir = await Deno.makeTempDir();
const config = loadConfig({
  DATABASE_URL: "memory://",
  DATA_DIR: dataDir,
  LOG_LEVEL: "silent",
  RATE_LIMIT_LOGIN_PER_IP: "100000",
});
const { deps, handle } = await buildDeps(config);
await createAccount(deps.db, {
  username: "bench",
  email: "bench@example.test",
  passwordHash: hash,
  roleNames: ["patient"],
});
const app = createApp(deps);
const signInMs = await median(async () => {
  const res = await app.request("/token/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "bench", password }),
  });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}`);
  await res.body?.cancel();
});
await handle.close();
await Deno.remove(dataDir, { recursive: true });

const { memoryKiB, iterations, parallelism } = ARGON2ID;
console.log(
  `argon2id hash (m=${memoryKiB} KiB, t=${iterations}, p=${parallelism}): median ${hashMs.toFixed(1)} ms over ${runs}`,
);
console.log(`${runs} hashes at once, ${HASH_CONCURRENCY} at a time: ${hashesPerSecond.toFixed(0)} a second`);
console.log(`argon2id verify: median ${verifyMs.toFixed(1)} ms over ${runs}`);
console.log(
  `POST /token/ (verify + session + refresh token + audit + JWT, PGlite in memory): median ${
    signInMs.toFixed(1)
  } ms over ${runs}`,
);
