/**
 * Before a server database is used: does it exist, and do our credentials open it? A database
 * that does not exist is one clear line (or is created with DB_CREATE=1), not a driver stack
 * trace on the first query; a server that does not answer is reported, not fatal (the server
 * starts and answers 503 until it comes back).
 */
import postgres from "postgres";
import { isConnectionError } from "./availability.ts";
import { DatabaseSetupError } from "./database.ts";
import { sqlState } from "./errors.ts";

export { DatabaseSetupError };

export type ProbeResult = { state: "ok" | "created" } | { state: "unreachable"; error: unknown };

const where = (url: URL) => `${url.hostname}:${url.port || 5432}`;
const nameOf = (url: URL) => decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres";

/** Connects once to the database in `url`; creates it first when it is missing and `create` is set. */
export async function probeServerDatabase(
  url: string,
  options: { create: boolean; connectTimeoutMs: number; driver?: "neon" | "postgres" },
): Promise<ProbeResult> {
  const target = new URL(url);
  const driver = options.driver ?? "neon";
  const first = await tryConnect(url, options.connectTimeoutMs, driver);
  if (first === null) return { state: "ok" };
  if (isConnectionError(first)) return { state: "unreachable", error: first };
  const code = sqlState(first);
  if (code === "3D000") {
    if (!options.create) {
      throw new DatabaseSetupError(
        `The database "${nameOf(target)}" does not exist on ${where(target)}; create it (createdb ${
          nameOf(target)
        }) or set DB_CREATE=1`,
      );
    }
    await createDatabase(target, options.connectTimeoutMs, driver);
    return { state: "created" };
  }
  if (code === "28P01" || code === "28000") {
    throw new DatabaseSetupError(
      `The database on ${where(target)} refused the credentials of user "${target.username || "postgres"}"`,
    );
  }
  throw new DatabaseSetupError(
    `The database "${nameOf(target)}" on ${where(target)} cannot be used: ${code ?? ""} ${messageOf(first)}`.trim(),
  );
}

/**
 * null when a connection opens and answers within the timeout, else the error. The deadline is
 * our own timer: the driver's connect timer does not keep the process alive, and a WebSocket that
 * fails behind a proxy can leave its connect pending.
 */
async function tryConnect(url: string, timeoutMs: number, driver: "neon" | "postgres"): Promise<unknown> {
  const client = await connectOnce(url, timeoutMs, driver);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<Error>((resolve) =>
    timer = setTimeout(() => resolve(new Error(`timeout exceeded when trying to connect (${timeoutMs} ms)`)), timeoutMs)
  );
  const attempt = (async () => {
    await client.connect();
    await client.query("select 1");
    return null;
  })().catch((e: unknown) => e);
  const result = await Promise.race([attempt, deadline]);
  clearTimeout(timer);
  if (result === null) await client.end().catch(() => {});
  else client.end().catch(() => {});
  return result;
}

/** One connection through either driver, with the few calls the probe needs. */
async function connectOnce(url: string, timeoutMs: number, driver: "neon" | "postgres") {
  if (driver === "postgres") {
    const sql = postgres(url, { max: 1, connect_timeout: timeoutMs / 1000, onnotice: () => {}, fetch_types: false });
    return {
      connect: () => Promise.resolve(),
      query: (text: string) => sql.unsafe(text).then(() => undefined),
      end: () => sql.end({ timeout: 0 }),
    };
  }
  // Loaded only for the Neon driver: an instance on postgres.js never needs the package.
  const { Client } = await import("@neondatabase/serverless");
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
  return {
    connect: () => client.connect(),
    query: (text: string) => client.query(text).then(() => undefined),
    end: () => client.end(),
  };
}

/** CREATE DATABASE through the server's maintenance database, with the same credentials. */
async function createDatabase(target: URL, timeoutMs: number, driver: "neon" | "postgres"): Promise<void> {
  const maintenance = new URL(target);
  maintenance.pathname = "/postgres";
  const client = await connectOnce(maintenance.toString(), timeoutMs, driver);
  try {
    await client.connect();
    await client.query(`CREATE DATABASE "${nameOf(target).replaceAll('"', '""')}"`);
  } catch (e) {
    // Another instance created it first: that is what we wanted.
    if (sqlState(e) === "42P04") return;
    throw new DatabaseSetupError(
      `The database "${nameOf(target)}" does not exist on ${where(target)} and could not be created: ${messageOf(e)}`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

function messageOf(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0].slice(0, 200);
}
