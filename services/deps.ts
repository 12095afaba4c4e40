import type { AppDeps } from "../app_env.ts";
import type { Config } from "../config.ts";
import { type DatabaseHandle, openConfiguredDatabase } from "../db/client.ts";
import { createBackgroundTasks } from "./background.ts";
import { systemClock } from "./clock.ts";
import { createLogger } from "./logger.ts";
import { createMailer } from "./mail.ts";
import { loadSigningKey } from "./signing_key.ts";

/**
 * Opens what the configuration names. The embedded database migrates itself on start; a shared
 * Postgres is migrated by `deno task migrate` (one deploy step, not every instance at once).
 */
export async function buildDeps(
  config: Config,
  options: { migrate?: boolean } = {},
): Promise<{ deps: AppDeps; handle: DatabaseHandle }> {
  const logger = createLogger(config.LOG_LEVEL);
  const handle = await openConfiguredDatabase(config, logger);
  if (options.migrate ?? handle.driver === "pglite") {
    await handle.migrate();
  }
  const deps: AppDeps = {
    config,
    db: handle.db,
    driver: handle.driver,
    availability: handle.availability,
    clock: systemClock,
    logger,
    mailer: createMailer(config, logger),
    background: createBackgroundTasks(logger),
    tokens: {
      keys: await loadSigningKey(config),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      clock: systemClock,
    },
  };
  return { deps, handle };
}
