/**
 * Postgres through `@neondatabase/serverless` (a pg-compatible Pool over WebSocket). Hardened for a
 * database that goes away: every connection has an error listener (a checked-out client's `error`
 * would otherwise end the process), connecting and statements time out, a client whose connection
 * failed is never returned to the pool, and a transaction whose BEGIN fails still gives its
 * client back.
 */
import { Client, neonConfig, Pool } from "@neondatabase/serverless";
import WebSocket from "ws";
import { sql } from "drizzle-orm";
import { drizzle, NeonSession, NeonTransaction } from "drizzle-orm/neon-serverless";
import type { PgTransactionConfig } from "drizzle-orm/pg-core";
import { type DatabaseAvailability, isConnectionError } from "./availability.ts";
import * as schema from "./schema.ts";

export interface NeonOptions {
  url: string;
  wsProxy?: string;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  poolMax: number;
  availability: DatabaseAvailability;
  logQuery?: (sql: string) => void;
}

/** A client that, when a statement times out, ends its connection so the pool drops it. */
class GuardedClient extends Client {
  // deno-lint-ignore no-explicit-any
  override query(...args: any[]): any {
    // deno-lint-ignore no-explicit-any
    const result = (super.query as any)(...args);
    if (result && typeof result.catch === "function") {
      return result.catch((e: unknown) => {
        if (isConnectionError(e)) this.end().catch(() => {});
        throw e;
      });
    }
    return result;
  }
}

/**
 * The `ws` package's WebSocket, not Deno's: Deno's client socket keeps Nagle's algorithm on, so a
 * message over ~1 KB (a frame written as header + payload) waits for the server's delayed ACK,
 * ~44 ms per statement (scripts/bench_params.ts: 50–53 ms at 1–32 KB vs 4.5–6.7 ms with `ws`,
 * which sets TCP_NODELAY). Applies to Neon itself as much as to the local proxy.
 */
neonConfig.webSocketConstructor = WebSocket;

export function openNeonPool(options: NeonOptions) {
  if (options.wsProxy) configureNeonForProxy(options.wsProxy);
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // The Neon Pool sets its client class after construction; ours replaces it.
  (pool as unknown as { Client: typeof Client }).Client = GuardedClient;
  const { availability } = options;
  // An idle pooled socket that errors is re-emitted by the pool; a checked-out one by its client.
  const onError = (e: Error) => {
    if (isConnectionError(e)) availability.lost(e);
  };
  pool.on("error", onError);
  pool.on("connect", (client: Client) => {
    client.on("error", onError);
    availability.reached();
  });
  const db = drizzle({ client: pool, schema, logger: options.logQuery && { logQuery: options.logQuery } });
  return { pool, db };
}

/** Settings measured to work for a plain Postgres behind a ws→tcp proxy (see README). */
export function configureNeonForProxy(hostPort: string): void {
  neonConfig.wsProxy = (host, port) => `${hostPort}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = false;
  neonConfig.forceDisablePgSSL = true;
  neonConfig.pipelineTLS = false;
}

interface Releasable {
  release(error?: Error): void;
}
interface LooseTransaction {
  execute(query: ReturnType<typeof sql>): Promise<unknown>;
  getTransactionConfigSQL(config: PgTransactionConfig): ReturnType<typeof sql>;
}
// deno-lint-ignore no-explicit-any
type Loose = any;

/**
 * drizzle's own version runs BEGIN outside its try, so a connection lost at BEGIN never releases
 * the client (ten such losses exhaust the pool for good), and it releases a broken client as if
 * healthy and throws the ROLLBACK's error in place of the real one. Same contract, without those.
 */
async function transaction<T>(
  this: Loose,
  run: (tx: Loose) => Promise<T>,
  config: PgTransactionConfig = {},
): Promise<T> {
  const client: Releasable | undefined = this.client instanceof Pool ? await this.client.connect() : undefined;
  const session = client ? new NeonSession(client as Loose, this.dialect, this.schema, this.options) : this;
  const tx = new NeonTransaction(this.dialect, session, this.schema) as unknown as LooseTransaction;
  let broken: Error | undefined;
  try {
    await tx.execute(sql`begin ${tx.getTransactionConfigSQL(config)}`);
    try {
      const result = await run(tx);
      await tx.execute(sql`commit`);
      return result;
    } catch (error) {
      await tx.execute(sql`rollback`).catch(() => {});
      throw error;
    }
  } catch (error) {
    if (isConnectionError(error)) broken = error as Error;
    throw error;
  } finally {
    client?.release(broken);
  }
}

(NeonSession.prototype as Loose).transaction = transaction;
