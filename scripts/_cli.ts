/** What the command-line tasks share: the configuration and the database, or one line saying why not. */
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { type DatabaseHandle, openConfiguredDatabase } from "../db/client.ts";

/** The validated configuration, or null after printing why it is invalid. */
export function configOrExplain(): Config | null {
  try {
    return loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    return null;
  }
}

/** The configured database, or null after printing why it cannot be opened. */
export async function databaseOrExplain(config: Config): Promise<DatabaseHandle | null> {
  try {
    return await openConfiguredDatabase(config);
  } catch (e) {
    console.error((e as Error).message);
    return null;
  }
}
