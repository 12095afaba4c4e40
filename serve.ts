/**
 * `deno task start:parallel`: the API on every core with `deno serve --parallel` (one isolate per
 * core, sharing the port; DENO_JOBS sets how many). Postgres only: PGlite belongs to one process
 * (`deno task start`). Each isolate is an instance as `deno task start` runs them: its own pool
 * (DB_POOL_MAX), LISTEN connection, outbox relay and sealer (one seals at a time, by advisory lock).
 * The address is deno serve's: `--port`/`--host`, or DENO_SERVE_ADDRESS=tcp:0.0.0.0:8000. On
 * SIGTERM/SIGINT the background work stops and the database closes (within SHUTDOWN_GRACE_MS), then
 * the process exits: requests in flight are not drained as `deno task start` drains them.
 */
import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { startAuditSealer } from "./services/audit_sealer.ts";
import { buildDeps } from "./services/deps.ts";
import { installLastResort } from "./services/last_resort.ts";
import { startWorkers } from "./services/workers.ts";

function configOrExit() {
  try {
    const config = loadConfig();
    if (!config.DATABASE_URL || config.DATABASE_URL === "memory://") {
      console.error("Cannot start: the embedded database (PGlite) is one process; use deno task start");
      Deno.exit(2);
    }
    return config;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      Deno.exit(2);
    }
    throw e;
  }
}

const config = configOrExit();
const { deps, handle } = await buildDeps(config).catch((e) => {
  console.error(`Cannot start: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
  return Deno.exit(1);
});
installLastResort(deps.logger);
const app = createApp(deps);
const workers = startWorkers(deps);
const sealer = startAuditSealer(deps);

// deno serve waits for the event loop to empty on a signal; the pool and the timers never let it.
let stopping = false;
async function stop(signal: Deno.Signal) {
  if (stopping) return;
  stopping = true;
  deps.logger.info("shutting down", { signal });
  const closed = Promise.all([workers.stop(), sealer.stop()]).then(() => handle.close());
  const late = new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE_MS));
  await Promise.race([closed.catch(() => {}), late]);
  Deno.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  try {
    Deno.addSignalListener(signal, () => stop(signal));
  } catch {
    // no signals here (Deno Deploy)
  }
}

export default {
  fetch: (req, info) => app.fetch(req, info),
} satisfies Deno.ServeDefaultExport;
