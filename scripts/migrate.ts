import type { Config } from "../config.ts";
import { configOrExplain, oneLine, TASK_LOG } from "./_cli.ts";
import { type DatabaseHandle, openConfiguredDatabase } from "../db/client.ts";

/** Applies pending migrations and seeds the built-in roles on the configured database; returns its driver. */
export async function runMigrations(config: Config): Promise<DatabaseHandle["driver"]> {
  const handle = await openConfiguredDatabase(config, TASK_LOG, { mustAnswer: true });
  try {
    await handle.migrate();
    return handle.driver;
  } finally {
    await handle.close();
  }
}

if (import.meta.main) {
  const config = configOrExplain();
  if (!config) Deno.exit(2);
  try {
    console.log(`migrations applied (${await runMigrations(config)})`);
  } catch (e) {
    // One line (a missing database, refused credentials, a failed statement), never a stack trace.
    console.error(`Cannot migrate: ${oneLine(e)}`);
    Deno.exit(1);
  }
}
