/**
 * Before a server database is used: does it exist, and do our credentials open it? A database
 * that does not exist is one clear line (or is created with DB_CREATE=1), not a driver stack
 * trace on the first query; a server that does not answer is reported, not fatal (the server
 * starts and answers 503 until it comes back).
 */
import { Client } from "@neondatabase/serverless";
import { isConnectionError } from "./availability.ts";
import { sqlState } from "./errors.ts";

/** The configured database cannot be used as it is; the message is one line for the operator. */
export class DatabaseSetupError extends Error {}

export type ProbeResult = { state: "ok" | "created" } | { state: "unreachable"; error: unknown };

const where = (url: URL) => `${url.hostname}:${url.port || 5432}`;
const nameOf = (url: URL) => decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres";

/** Connects once to the database in `url`; creates it first when it is missing and `create` is set. */
export async function probeServerDatabase(
  url: string,
  options: { create: boolean; connectTimeoutMs: number },
): Promise<ProbeResult> {
  const target = new URL(url);
  const first = await tryConnect(url, options.connectTimeoutMs);
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
    await createDatabase(target, options.connectTimeoutMs);
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
async function tryConnect(url: string, timeoutMs: number): Promise<unknown> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
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

/** CREATE DATABASE through the server's maintenance database, with the same credentials. */
async function createDatabase(target: URL, timeoutMs: number): Promise<void> {
  const maintenance = new URL(target);
  maintenance.pathname = "/postgres";
  const client = new Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
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
