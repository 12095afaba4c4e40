import { fileURLToPath } from "node:url";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { AvailabilityLog, DatabaseAvailability } from "./availability.ts";
import type * as schema from "./schema.ts";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

/** The configured database cannot be used as it is; the message is one line for the operator. */
export class DatabaseSetupError extends Error {}

/** One type for every driver, so the data layer is written once. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Which client talks to the database: embedded, Neon's serverless driver, or postgres.js over TCP. */
export type DriverName = "pglite" | "neon" | "postgres";

export interface DatabaseHandle {
  db: Database;
  driver: DriverName;
  /** Whether the database answers, as this process last saw it. */
  availability: DatabaseAvailability;
  /**
   * Calls `onPayload` with each NOTIFY on `channel` (from any instance); returns the way to stop.
   * `onReconnect` (set once) hears when the listening connection was replaced and events may have been missed.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  onReconnect(handler: () => void): void;
  /** Applies every committed migration that has not run yet, then seeds the built-in roles. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Unset: PGlite persisted under `dataDir`; `memory://`: in-memory PGlite; `postgres://…`: a server. */
  url?: string;
  /** For a server: `neon` or `postgres`; unset, chosen by the URL (see `driverFor`). */
  driver?: "neon" | "postgres";
  dataDir: string;
  /** host:port of a WebSocket-to-TCP proxy in front of a plain Postgres (the Neon driver in local and CI runs). */
  wsProxy?: string;
  /** Called with every SQL statement the app sends (tests count queries with it). */
  onQuery?: (sql: string) => void;
  /** Bounds on reaching a server database: connecting (and waiting for a pooled connection), and one statement. */
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  poolMax?: number;
  /** Where embedded databases' templates live (see db/pglite_template.ts); unset: the user's cache; false: none. */
  pgliteTemplates?: string | false;
  /** Where outages are reported (once when the database goes away, once when it is back). */
  log?: AvailabilityLog;
}

/**
 * The driver for a server URL: Neon's serverless driver for a Neon host (`*.neon.tech`) or when
 * `setting` (DATABASE_DRIVER) says `neon`; postgres.js over TCP for any other Postgres.
 */
export function driverFor(url: string, setting?: string): "neon" | "postgres" {
  if (setting === "neon" || setting === "postgres") return setting;
  const host = new URL(url).hostname.toLowerCase();
  return host === "neon.tech" || host.endsWith(".neon.tech") ? "neon" : "postgres";
}
