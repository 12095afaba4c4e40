import { AsyncLocalStorage } from "node:async_hooks";
import { describeConnectionError, isConnectionError } from "../db/availability.ts";
import type { Logger } from "./logger.ts";

/** The id of the request whose work is running, for errors that escape every handler. */
export const requestScope = new AsyncLocalStorage<string>();

/**
 * The process-level last resort: an unhandled rejection or an uncaught exception is logged (with
 * the request id when it came from a request) and the server keeps serving. Each known source
 * (pool, clients, streams) handles its own errors; this only keeps a missed one from ending the
 * process for every other user.
 */
export function installLastResort(logger: Logger): () => void {
  const describe = (error: unknown) => ({
    error: error instanceof Error ? error.name : typeof error,
    message: isConnectionError(error) ? describeConnectionError(error) : undefined,
    stack: error instanceof Error
      ? error.stack?.split("\n").filter((l) => l.trimStart().startsWith("at ")).slice(0, 8).join("\n")
      : undefined,
  });
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    logger.error("unhandled rejection", { request_id: requestScope.getStore() ?? null, ...describe(event.reason) });
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    if (isPostgresJsWriteRace(event.error)) {
      logger.warn("postgres.js wrote to a connection already closed", describe(event.error));
      return;
    }
    logger.error("uncaught exception", { request_id: requestScope.getStore() ?? null, ...describe(event.error) });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  return () => {
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
  };
}

/**
 * postgres.js 3.4.9 defers small writes with setImmediate and can run one after the connection
 * closed (`socket.write` on null; porsager/postgres#1154, fix pending in #1168). The copy in
 * vendor/postgres is patched against it; should it still happen (the registry's copy, say), the
 * statement it belonged to has already failed with CONNECTION_CLOSED: a known race of a lost
 * connection, logged as a warning, not a bug of ours.
 */
export function isPostgresJsWriteRace(error: unknown): boolean {
  return error instanceof TypeError && /reading 'write'/.test(error.message) &&
    /\/postgres(?:@[^/\n]*)?\/(?:[^\n]*\/)?src\/connection\.js/.test(error.stack ?? "") &&
    /nextWrite/.test(error.stack ?? "");
}
