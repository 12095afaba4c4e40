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

/** The configured database, or null after printing in one line why it cannot be opened. */
export async function databaseOrExplain(
  config: Config,
  options: { noTemplate?: boolean } = {},
): Promise<DatabaseHandle | null> {
  try {
    return await openConfiguredDatabase(config, TASK_LOG, { mustAnswer: true, ...options });
  } catch (e) {
    console.error(oneLine(e));
    return null;
  }
}

/** What a task tells its operator about the database (e.g. that DB_CREATE created it), on stdout. */
export const TASK_LOG = {
  info: (msg: string, fields: Record<string, unknown> = {}) =>
    console.log([msg, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)].join(" ")),
  warn: (msg: string, fields: Record<string, unknown> = {}) =>
    console.error([msg, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)].join(" ")),
};

/**
 * The first line of the innermost error's message: what an operator needs (the driver's words,
 * not drizzle's "Failed query" with its parameters), never a stack trace.
 */
export function oneLine(error: unknown): string {
  let e = error as { message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e?.cause instanceof Error && depth < 6; depth++) e = e.cause as typeof e;
  return String(e?.message ?? e).split("\n")[0];
}
