import { type Config, ConfigError, loadConfig } from "../config.ts";
import { type DatabaseHandle, openConfiguredDatabase } from "../db/client.ts";

/** Applies pending migrations and seeds the built-in roles on the configured database; returns its driver. */
export async function runMigrations(config: Config): Promise<DatabaseHandle["driver"]> {
  const handle = await openConfiguredDatabase(config);
  try {
    await handle.migrate();
    return handle.driver;
  } finally {
    await handle.close();
  }
}

if (import.meta.main) {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    Deno.exit(2);
  }
  console.log(`migrations applied (${await runMigrations(config)})`);
}
