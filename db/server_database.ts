/**
 * A server Postgres behind one of two drivers: Neon's serverless driver (WebSocket; Neon hosts, or
 * a plain Postgres behind a ws proxy in tests) or postgres.js over TCP (any other Postgres). Both
 * give the same handle: a drizzle database, availability, LISTEN with reconnects, migrate, close.
 */
import { fileURLToPath } from "node:url";
import { migrate as migrateNeon } from "drizzle-orm/neon-serverless/migrator";
import { migrate as migratePostgresJs } from "drizzle-orm/postgres-js/migrator";
import { type AvailabilityLog, createAvailability } from "./availability.ts";
import type { Database, DatabaseHandle, DatabaseOptions } from "./database.ts";
import { openNeonPool } from "./neon.ts";
import { neonListener } from "./neon_listener.ts";
import { openPostgresJs, postgresJsSettings } from "./postgres_js.ts";
import { postgresListener } from "./postgres_listener.ts";
import { seedBuiltinRoles } from "./seed.ts";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

const SILENT: AvailabilityLog = { warn() {}, info() {} };

function bounds(options: DatabaseOptions) {
  return {
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    queryTimeoutMs: options.queryTimeoutMs ?? 5000,
    poolMax: options.poolMax ?? 10,
  };
}

export function openNeon(url: string, options: DatabaseOptions): DatabaseHandle {
  const availability = createAvailability(options.log ?? SILENT);
  const { pool, db } = openNeonPool({
    url,
    wsProxy: options.wsProxy,
    ...bounds(options),
    availability,
    logQuery: options.onQuery,
  });
  const reconnected = new Set<() => void>();
  const listener = neonListener(url, availability, () => reconnected.forEach((handler) => handler()));
  return {
    db: db as unknown as Database,
    driver: "neon",
    availability,
    listen: listener.listen,
    onReconnect: (handler) => reconnected.add(handler),
    migrate: async () => {
      await migrateNeon(db, { migrationsFolder: MIGRATIONS_FOLDER });
      await seedBuiltinRoles(db as unknown as Database);
    },
    close: async () => {
      await listener.close();
      await pool.end();
    },
  };
}

export function openPostgres(url: string, options: DatabaseOptions): DatabaseHandle {
  const availability = createAvailability(options.log ?? SILENT);
  const limits = bounds(options);
  const { client, db } = openPostgresJs({ url, ...limits, availability, logQuery: options.onQuery });
  const reconnected = new Set<() => void>();
  const listener = postgresListener(
    url,
    postgresJsSettings(limits),
    availability,
    () => reconnected.forEach((handler) => handler()),
  );
  return {
    db: db as unknown as Database,
    driver: "postgres",
    availability,
    listen: listener.listen,
    onReconnect: (handler) => reconnected.add(handler),
    migrate: async () => {
      await migratePostgresJs(db, { migrationsFolder: MIGRATIONS_FOLDER });
      await seedBuiltinRoles(db as unknown as Database);
    },
    close: async () => {
      await listener.close();
      await client.end({ timeout: 5 });
    },
  };
}
