import { createApp } from "./app.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import type { DatabaseHandle } from "./db/client.ts";
import { startAuditSealer } from "./services/audit_sealer.ts";
import { type AppDeps, buildDeps } from "./services/deps.ts";
import { installLastResort } from "./services/last_resort.ts";
import { hubOf } from "./services/notification_hub.ts";
import { passwordHasher } from "./services/passwords.ts";
import { readinessProblem } from "./services/readiness.ts";
import { startWorkers } from "./services/workers.ts";

/** Starts the API from the environment: `deno task dev` or `deno task start`. */
async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      Deno.exit(2);
    }
    throw e;
  }
  let built;
  try {
    built = await buildDeps(config);
  } catch (e) {
    console.error(`Cannot start: ${firstLine(e)}`);
    Deno.exit(1);
  }
  const { deps, handle } = built;
  installLastResort(deps.logger);
  const app = createApp(deps);
  // Said before listening, so the "listening" line never hides a database that is away or behind.
  // The deadline's timer also keeps the process alive meanwhile (the driver's own timers do not).
  const notReady = await withDeadline(
    readinessProblem(deps),
    config.DB_CONNECT_TIMEOUT_MS + config.DB_QUERY_TIMEOUT_MS,
    "the database does not answer",
  );
  if (notReady) deps.logger.warn("not ready", { detail: notReady });
  const hasher = (await passwordHasher()).kind;
  if (hasher === "portable-inline") deps.logger.warn("password hashing blocks the event loop (no worker threads here)");
  const traffic = new Traffic();
  const workers = startWorkers(deps);
  const sealer = startAuditSealer(deps);
  // Open event streams end first (their clients reconnect elsewhere), the relay and the sealer last.
  const background = {
    closeStreams: () => hubOf(deps).close(),
    stop: async () => {
      await workers.stop();
      await sealer.stop();
    },
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: config.PORT,
      hostname: config.HOST,
      onListen: ({ hostname, port }) =>
        deps.logger.info("listening", {
          host: hostname,
          port,
          database: handle.driver,
          ready: notReady === null,
          ...(notReady ? { not_ready: notReady } : {}),
          env: config.APP_ENV,
          mail: deps.mailer.transport,
          password_hasher: hasher,
        }),
    }, (req, info) => traffic.admit(() => app.fetch(req, info)));
  } catch (e) {
    console.error(`Cannot start: ${listenProblem(e, config)}`);
    await handle.close().catch(() => {});
    Deno.exit(1);
  }
  let stopping = false;
  const stop = (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    shutdown(signal, server, deps, handle, traffic, background, config.SHUTDOWN_GRACE_MS).then((code) =>
      Deno.exit(code)
    );
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => stop(signal));
    } catch {
      // Hosts without signals (Deno Deploy) stop the isolate themselves.
    }
  }
}

/**
 * Requests in flight, and the drain. Once draining, a new request is answered 503 with
 * `Connection: close` (a load balancer retries it elsewhere) while those already running finish.
 * The listener itself closes only when none is left: Deno's `server.shutdown()` cuts the body of a
 * request still being read (BadResource; measured on Deno 2.9.6), so it must not run under an upload.
 */
class Traffic {
  private count = 0;
  private draining = false;
  private idle?: () => void;

  get inFlight() {
    return this.count;
  }

  async admit(handle: () => Response | Promise<Response>): Promise<Response> {
    if (this.draining) return shuttingDown();
    this.count++;
    try {
      return await handle();
    } finally {
      if (--this.count === 0) this.idle?.();
    }
  }

  /** Refuses new requests from now on; resolves when the last one in flight has its answer. */
  drain(): Promise<void> {
    this.draining = true;
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.idle = resolve);
  }
}

function shuttingDown(): Response {
  const body = {
    type: "urn:problem-type:patient-portal:shutting-down",
    title: "Service Unavailable",
    status: 503,
    detail: "The server is shutting down; try again",
    request_id: null,
  };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: {
      "content-type": "application/problem+json",
      "retry-after": "1",
      connection: "close",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

/**
 * Graceful shutdown: refuse new requests at once, let the requests in flight (an upload
 * included) finish within the grace period, stop listening, let background work (mail) settle,
 * close the database, and say so in the log. Exit code 0 when all finished in time, 1 when the
 * grace ran out (what was still running is cut by the exit).
 */
async function shutdown(
  signal: Deno.Signal,
  server: Deno.HttpServer,
  deps: AppDeps,
  handle: DatabaseHandle,
  traffic: Traffic,
  background: { closeStreams(): Promise<void>; stop(): Promise<void> },
  graceMs: number,
): Promise<number> {
  const started = performance.now();
  deps.logger.info("shutting down", { signal, in_flight: traffic.inFlight, grace_ms: graceMs });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), graceMs));
  const finished = await Promise.race([
    traffic.drain()
      .then(() => background.closeStreams())
      .then(() => server.shutdown())
      .then(() => background.stop())
      .then(() => deps.background.settle())
      .then(() => true),
    expired,
  ]);
  clearTimeout(timer);
  if (!finished) deps.logger.warn("shutdown grace expired", { in_flight: traffic.inFlight, grace_ms: graceMs });
  await handle.close().catch((e) => deps.logger.error("closing the database failed", { error: firstLine(e) }));
  deps.logger.info("shut down", { signal, clean: finished, duration_ms: Math.round(performance.now() - started) });
  return finished ? 0 : 1;
}

/** One line for a listen failure: the port taken, not allowed, or the address not on this machine. */
function listenProblem(e: unknown, config: Config): string {
  const at = `${config.HOST}:${config.PORT}`;
  if (e instanceof Deno.errors.AddrInUse) {
    return `port ${config.PORT} is already in use (${at}); stop the other server or set PORT`;
  }
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return `not allowed to listen on ${at}; use a port above 1024 or grant the permission`;
  }
  if (e instanceof Deno.errors.AddrNotAvailable) return `the address ${config.HOST} is not on this machine (HOST)`;
  return `cannot listen on ${at}: ${firstLine(e)}`;
}

async function withDeadline<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((resolve) => timer = setTimeout(() => resolve(fallback), ms));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0];
}

if (import.meta.main) await main();
