/**
 * The server's postgres.js is the patched copy in vendor/postgres (PATCHED.md), not the registry's:
 * a change to deno.json that maps it back would bring the uncatchable rollback TypeError back.
 */
import { assert, assertStringIncludes } from "@std/assert";

Deno.test("postgres resolves to the patched copy in vendor/postgres", async () => {
  const resolved = import.meta.resolve("postgres");
  assert(resolved.endsWith("/vendor/postgres/src/index.js"), resolved);
  const connection = await Deno.readTextFile(new URL("connection.js", resolved));
  assertStringIncludes(connection, "Patched (see vendor/postgres/PATCHED.md)");
});
