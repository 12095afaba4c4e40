/**
 * Whether the database can be reached, as seen from this process. Drivers and the error renderer
 * report what they observe; the log says once that the database went away and once that it came
 * back, and `/ready` answers 503 while it is away.
 */
export interface DatabaseAvailability {
  /** False from a connection failure until a connection succeeds again. */
  readonly up: boolean;
  /** How many outages have begun: read it when a statement starts, give it to `reached`. */
  readonly outages: number;
  /** A connection failed or broke (the error must be a connection error). */
  lost(error: unknown): void;
  /**
   * A connection was made, or a statement answered. With `startedDuring` (the `outages` count
   * when the statement began), an answer to a statement sent before the current outage began
   * says nothing about now (a backend orphaned by a killed postmaster still answers for a moment).
   */
  reached(startedDuring?: number): void;
}

export interface AvailabilityLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
}

/** For a database opened outside the server (scripts, tests): availability is tracked but not logged. */
export const SILENT: AvailabilityLog = { warn() {}, info() {} };

/**
 * After the database is back, errors from statements that began while it was still away (a
 * connection refused at start-up, 57P03) keep arriving for a moment; they do not open a new outage.
 */
const SETTLE_MS = 1000;

export function createAvailability(log: AvailabilityLog, clock: () => number = Date.now): DatabaseAvailability {
  let up = true;
  let since = 0;
  let backAt = -Infinity;
  let outages = 0;
  return {
    get up() {
      return up;
    },
    get outages() {
      return outages;
    },
    lost(error) {
      // Waiting too long for a pooled connection, or a slow statement, is load, not an outage.
      if (!up || isOverload(error) || clock() - backAt < SETTLE_MS) return;
      up = false;
      outages++;
      since = clock();
      log.warn("database unavailable", { error: describeConnectionError(error) });
    },
    reached(startedDuring) {
      if (up || (startedDuring !== undefined && startedDuring < outages)) return;
      up = true;
      backAt = clock();
      log.info("database available again", { outage_ms: clock() - since });
    },
  };
}

/**
 * SQLSTATEs that mean the server went away or refuses connections (class 08, shutdown, start-up),
 * or gave up a statement at DB_QUERY_TIMEOUT_MS (57014: postgres.js bounds statements by the server's
 * `statement_timeout`, where the Neon driver has its own read timeout).
 */
const CONNECTION_SQLSTATES = /^(08...|57P01|57P02|57P03|53300|57014)$/;

/** Driver messages and codes for a connection that failed, broke or timed out (Neon/pg, postgres.js, PGlite). */
const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /query read timeout/i,
  /failed to connect to websocket/i,
  /websocket/i,
  /econnrefused|econnreset|epipe|ehostunreach|enetunreach|etimedout/i,
  /connection refused|connection reset|broken pipe/i,
  /cannot use a pool after calling end/i,
  /pglite is closed/i,
  /write connect/i,
];
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
]);

/**
 * True when an error (or one it wraps, as drizzle wraps driver errors) says the database could
 * not be reached or the connection broke, as opposed to a statement the database refused.
 */
export function isConnectionError(error: unknown): boolean {
  for (let e = error as Record<string, unknown> | undefined, depth = 0; e && depth < 6; depth++) {
    if (typeof e !== "object") return false;
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code && CONNECTION_SQLSTATES.test(code)) return true;
    if (code && CONNECTION_CODES.has(code)) return true;
    if (typeof e.name === "string" && e.name === "NetworkError") return true;
    if (e instanceof Deno.errors.ConnectionRefused || e instanceof Deno.errors.ConnectionReset) return true;
    if (e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.TimedOut) return true;
    const message = typeof e.message === "string" ? e.message : "";
    if (!("query" in e) && CONNECTION_MESSAGES.some((m) => m.test(message))) return true;
    e = e.cause as Record<string, unknown> | undefined;
  }
  return false;
}

/** A connection error that says the pool or a statement was too slow, not that the database went away. */
function isOverload(error: unknown): boolean {
  return /timeout exceeded when trying to connect|connect_timeout|query read timeout|statement timeout/i.test(
    describeConnectionError(error),
  );
}

/** A log-safe description: the driver's message of the innermost error (never a statement's parameters). */
export function describeConnectionError(error: unknown): string {
  let e = error as { message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e?.cause && depth < 6; depth++) e = e.cause as typeof e;
  return String(e?.message ?? e).slice(0, 200);
}
