/**
 * Postgres over plain TCP through `postgres` (postgres.js): any server that is not Neon's. Hardened
 * like the Neon pool for a database that goes away: connecting is bounded (CONNECT_TIMEOUT), a
 * statement is bounded by the server (`statement_timeout`, SQLSTATE 57014 = overload, not outage),
 * a broken connection is dropped and reopened on the next statement, and notices never reach stdout.
 */
import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
// drizzle is typed against the registry's copy of postgres.js; ours (vendor/postgres) is the same API.
import type { Sql as RegistrySql } from "postgres-registry";
import type { DatabaseAvailability } from "./availability.ts";
import * as schema from "./schema.ts";

export interface PostgresJsOptions {
  url: string;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  poolMax: number;
  availability: DatabaseAvailability;
  logQuery?: (sql: string) => void;
}

/** The connection settings both the pool and the listener use. */
export function postgresJsSettings(options: Pick<PostgresJsOptions, "connectTimeoutMs" | "queryTimeoutMs">) {
  return {
    connect_timeout: options.connectTimeoutMs / 1000,
    idle_timeout: 30,
    // postgres.js waits up to 20 s (3^retries / 100, shared by all connections) before reconnecting
    // after failures; queued statements wait with it, long after the database is back. Retry soon.
    backoff: (retries: number) => Math.min(0.05 * retries, 0.25),
    onnotice: () => {},
    connection: { statement_timeout: options.queryTimeoutMs, application_name: "patient-portal" },
  };
}

export function openPostgresJs(options: PostgresJsOptions) {
  const client = postgres(options.url, { ...postgresJsSettings(options), max: options.poolMax });
  watchAnswers(client, options.availability);
  const db = drizzle({
    client: client as unknown as RegistrySql,
    schema,
    logger: options.logQuery && { logQuery: options.logQuery },
  });
  // drizzle makes date and time values pass through untouched (its columns send strings); a Date
  // bound in a raw `sql` fragment would then reach the wire as an object. Send it as ISO text.
  for (const oid of [1082, 1114, 1184]) {
    client.options.serializers[oid] = (value: unknown) => value instanceof Date ? value.toISOString() : value;
  }
  return { client, db };
}

/**
 * Two things on every statement, in and out of transactions. Named statements: drizzle asks for
 * unnamed ones (`prepare: false`) unless `.prepare()` is called; named ones, cached per connection
 * by postgres.js, skip the parse and plan of a statement it has seen (one-row audited read: 131 →
 * 228 req/s, 3.4 → 2.2 ms of app CPU per request, same run). And a statement or transaction that
 * succeeds says the database is back (the Neon pool says so on each new connection; postgres.js has
 * no such event): without it, an error from a request that started during the restart, reported
 * after the first success, would leave the instance "down".
 */
function watchAnswers(client: postgres.Sql, availability: DatabaseAvailability): void {
  // deno-lint-ignore no-explicit-any
  const patch = (sql: any) => {
    const unsafe = sql.unsafe.bind(sql);
    sql.unsafe = (text: string, params?: unknown[], queryOptions?: Record<string, unknown>) => {
      const query = unsafe(text, params, { ...queryOptions, prepare: true });
      const resolve = query.resolve;
      const sentDuring = availability.outages;
      query.resolve = (value: unknown) => {
        availability.reached(sentDuring);
        return resolve(value);
      };
      return query;
    };
    return sql;
  };
  patch(client);
  const begin = client.begin.bind(client);
  // deno-lint-ignore no-explicit-any
  (client as any).begin = (...args: any[]) => {
    const run = args[args.length - 1];
    // deno-lint-ignore no-explicit-any
    args[args.length - 1] = (tx: any) => run(patch(tx));
    const begunDuring = availability.outages;
    // deno-lint-ignore no-explicit-any
    return (begin as any)(...args).then((value: unknown) => {
      availability.reached(begunDuring);
      return value;
    });
  };
}
