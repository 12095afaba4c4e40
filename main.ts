import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { startAuditSealer } from "./services/audit_sealer.ts";
import { buildDeps } from "./services/deps.ts";
import { installLastResort } from "./services/last_resort.ts";
import { hubOf } from "./services/notification_hub.ts";
import { startWorkers } from "./services/workers.ts";

/** Starts the API from the environment: `deno task dev` or `deno task start`. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      Deno.exit(2);
    }
    throw e;
  }
  let built;
  try {
    built = await buildDeps(config);
  } catch (e) {
    console.error(`Cannot start: ${(e as Error).message}`);
    Deno.exit(1);
  }
  const { deps, handle } = built;
  installLastResort(deps.logger);
  const app = createApp(deps);
  const workers = startWorkers(deps);
  const sealer = startAuditSealer(deps);
  const server = Deno.serve({
    port: config.PORT,
    hostname: "0.0.0.0",
    onListen: ({ port }) =>
      deps.logger.info("listening", {
        port,
        database: handle.driver,
        env: config.APP_ENV,
        mail: deps.mailer.transport,
      }),
  }, (req, info) => app.fetch(req, info));
  const shutdown = async () => {
    await server.shutdown();
    await workers.stop();
    await hubOf(deps).close();
    await sealer.stop();
    await deps.background.settle();
    await handle.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
}

if (import.meta.main) await main();
