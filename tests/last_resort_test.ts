/**
 * The process-level last resort: an error no handler caught is logged (a rejection with the id of
 * the request it came from), and the process goes on. (Each known source handles its own errors; this is the
 * net under them.)
 */
import { assert, assertEquals } from "@std/assert";
import { installLastResort, isPostgresJsWriteRace, requestScope } from "../services/last_resort.ts";
import type { Logger } from "../services/logger.ts";

function capturingLogger() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push({ level, msg, fields });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

Deno.test({
  name:
    "an unhandled rejection is logged with its request id, an uncaught exception is logged, and the process goes on",
  sanitizeOps: false,
  async fn() {
    const { logger, lines } = capturingLogger();
    const uninstall = installLastResort(logger);
    try {
      requestScope.run("req-rejected", () => {
        Promise.reject(new Error("nobody awaited this"));
      });
      await tick();
      requestScope.run("req-thrown", () => {
        setTimeout(() => {
          throw new RangeError("thrown from a timer");
        }, 0);
      });
      await tick();
      assertEquals(lines.map((l) => [l.level, l.msg, l.fields?.request_id, l.fields?.error]), [
        ["error", "unhandled rejection", "req-rejected", "Error"],
        // The error event is dispatched outside the request's async context: no id to give.
        ["error", "uncaught exception", null, "RangeError"],
      ]);
      assert(String(lines[0].fields?.stack).includes("last_resort_test.ts"), "a stack to find the source by");
    } finally {
      uninstall();
    }
  },
});

Deno.test("postgres.js's write-after-close race is recognised in the registry's copy and in vendor/", () => {
  const race = (path: string) => {
    const error = new TypeError("Cannot read properties of null (reading 'write')");
    error.stack = `TypeError: ${error.message}\n    at nextWrite (file://${path}/src/connection.js:258:14)`;
    return error;
  };
  assert(isPostgresJsWriteRace(race("/app/node_modules/.deno/postgres@3.4.9/node_modules/postgres")));
  assert(isPostgresJsWriteRace(race("/app/vendor/postgres")));
  assert(!isPostgresJsWriteRace(race("/app/routes")));
  assert(!isPostgresJsWriteRace(new TypeError("Cannot read properties of null (reading 'write')")));
});
