import { assertEquals, assertMatch, assertRejects, assertStringIncludes, assertThrows } from "@std/assert";
import { ConfigError, loadConfig, resetUrl } from "../config.ts";
import { generateAuditKey, loadAuditKey } from "../services/audit_key.ts";

Deno.test("production refuses to start without AUDIT_HMAC_KEY", async () => {
  const error = assertThrows(() => loadConfig({ APP_ENV: "production" }), ConfigError);
  assertStringIncludes(error.message, "AUDIT_HMAC_KEY is required when APP_ENV=production");
  await assertRejects(() => loadAuditKey({ ...loadConfig({}), APP_ENV: "production" }), "AUDIT_HMAC_KEY");
});

Deno.test("AUDIT_HMAC_KEY must be base64 of at least 32 bytes", () => {
  for (const bad of ["short", btoa("x".repeat(31)), "not base64 !!"]) {
    const error = assertThrows(() => loadConfig({ AUDIT_HMAC_KEY: bad }), ConfigError);
    assertStringIncludes(error.message, "AUDIT_HMAC_KEY");
  }
  assertEquals(loadConfig({ AUDIT_HMAC_KEY: generateAuditKey() }).AUDIT_HMAC_KEY?.length, 44);
});

Deno.test("development generates an audit key once, kept private in the data directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = loadConfig({ DATA_DIR: dir });
    await assertRejects(() => loadAuditKey(config, { create: false }), "AUDIT_HMAC_KEY is not set");
    await loadAuditKey(config);
    const text = await Deno.readTextFile(`${dir}/audit_hmac_key`);
    assertMatch(text, /^[A-Za-z0-9+/]{43}=\n$/);
    assertEquals(((await Deno.stat(`${dir}/audit_hmac_key`)).mode ?? 0) & 0o077, 0);
    await loadAuditKey(config);
    assertEquals(await Deno.readTextFile(`${dir}/audit_hmac_key`), text, "the same key on the next start");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RESET_URL defaults to the API's own form under PUBLIC_URL; TRUSTED_PROXY_HOPS is 1 to 10", () => {
  assertEquals(
    resetUrl(loadConfig({ PUBLIC_URL: "https://portal.example/" })),
    "https://portal.example/reset-password/",
  );
  assertEquals(resetUrl(loadConfig({ RESET_URL: "https://app.example/reset" })), "https://app.example/reset");
  assertEquals(loadConfig({}).TRUSTED_PROXY_HOPS, 1);
  assertThrows(() => loadConfig({ TRUSTED_PROXY_HOPS: "0" }), ConfigError);
  assertThrows(() => loadConfig({ RESET_URL: "not a url" }), ConfigError);
});
