/**
 * A server Postgres behind one of two drivers: Neon's serverless driver (WebSocket; Neon hosts, or
 * a plain Postgres behind a ws proxy in tests) or postgres.js over TCP (any other Postgres). Both
 * give the same handle: a drizzle database, availability, LISTEN with reconnects, migrate, close.
 */
import { createAvailability, SILENT } from "./availability.ts";
import { type Database, type DatabaseHandle, type DatabaseOptions, MIGRATIONS_FOLDER } from "./database.ts";
import { seedBuiltinRoles } from "./seed.ts";

function bounds(options: DatabaseOptions) {
  return {
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    queryTimeoutMs: options.queryTimeoutMs ?? 5000,
    poolMax: options.poolMax ?? 10,
  };
}

// Each driver's modules are loaded when it is opened: an instance loads one driver, not three.

export async function openNeon(url: string, options: DatabaseOptions): Promise<DatabaseHandle> {
  const [{ openNeonPool }, { neonListener }, { migrate: migrateNeon }] = await Promise.all([
    import("./neon.ts"),
    import("./neon_listener.ts"),
    import("drizzle-orm/neon-serverless/migrator"),
  ]);
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

export async function openPostgres(url: string, options: DatabaseOptions): Promise<DatabaseHandle> {
  const [{ openPostgresJs, postgresJsSettings }, { postgresListener }, { migrate: migratePostgresJs }] = await Promise
    .all([
      import("./postgres_js.ts"),
      import("./postgres_listener.ts"),
      import("drizzle-orm/postgres-js/migrator"),
    ]);
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
