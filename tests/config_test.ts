import { assertEquals, assertMatch, assertRejects, assertStringIncludes, assertThrows } from "@std/assert";
import { ConfigError, loadConfig, readDotEnv } from "../config.ts";
import { loadSigningKey } from "../services/signing_key.ts";

Deno.test("config defaults match the original: port 8000, embedded database under ./data, file mail", () => {
  const config = loadConfig({});
  assertEquals([config.PORT, config.DATA_DIR, config.DATABASE_URL, config.MAIL_TRANSPORT], [
    8000,
    "./data",
    undefined,
    "file",
  ]);
  assertEquals(config.ACCESS_TOKEN_TTL_SECONDS <= 600, true);
});

Deno.test("bad configuration fails with one clear line naming every bad variable", () => {
  const error = assertThrows(
    () => loadConfig({ PORT: "eighty", DATABASE_URL: "mysql://x", ACCESS_TOKEN_TTL_SECONDS: "3600" }),
    ConfigError,
  );
  assertEquals(error.message.includes("\n"), false);
  for (const name of ["PORT", "DATABASE_URL", "ACCESS_TOKEN_TTL_SECONDS"]) assertStringIncludes(error.message, name);
});

Deno.test("production refuses to start without its keys, database and public URL", async () => {
  const error = assertThrows(() => loadConfig({ APP_ENV: "production" }), ConfigError);
  for (const name of ["JWT_PRIVATE_KEY", "DATABASE_URL", "PUBLIC_URL"]) assertStringIncludes(error.message, name);
  await assertRejects(() => loadSigningKey({ ...loadConfig({}), APP_ENV: "production" }), "JWT_PRIVATE_KEY");
});

Deno.test("development generates a signing key once and keeps it in the data directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = loadConfig({ DATA_DIR: dir });
    const first = await loadSigningKey(config);
    const second = await loadSigningKey(config);
    assertEquals(first.kid, second.kid);
    assertMatch(await Deno.readTextFile(`${dir}/jwt_signing_key.json`), /"crv":"Ed25519"/);
    assertEquals(((await Deno.stat(`${dir}/jwt_signing_key.json`)).mode ?? 0) & 0o077, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(".env lines fill in, with quotes and comments handled", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/.env`,
      `# comment\nPORT=9001\nexport PUBLIC_URL="https://a.example/x"\nMAIL_FROM='Portal <p@a.example>' \nBAD LINE\nLOG_LEVEL=warn # trailing\n`,
    );
    assertEquals(readDotEnv(`${dir}/.env`), {
      PORT: "9001",
      PUBLIC_URL: "https://a.example/x",
      MAIL_FROM: "Portal <p@a.example>",
      LOG_LEVEL: "warn",
    });
    assertEquals(readDotEnv(`${dir}/missing.env`), {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("payments: sandbox by default; production refuses the sandbox; each provider requires its keys", () => {
  assertEquals(loadConfig({}).PAYMENT_PROVIDER, "sandbox");
  const prod = {
    APP_ENV: "production",
    JWT_PRIVATE_KEY: "{}",
    DATABASE_URL: "postgres://x/y",
    PUBLIC_URL: "https://p.example",
    AUDIT_HMAC_KEY: btoa("k".repeat(32)),
    MAIL_TRANSPORT: "smtp",
    SMTP_HOST: "smtp.example",
  };
  assertStringIncludes(assertThrows(() => loadConfig(prod), ConfigError).message, "PAYMENT_PROVIDER");
  const stripe = assertThrows(() => loadConfig({ ...prod, PAYMENT_PROVIDER: "stripe" }), ConfigError).message;
  for (const name of ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]) assertStringIncludes(stripe, name);
  const mpesa =
    assertThrows(() => loadConfig({ PAYMENT_PROVIDER: "mpesa", MPESA_CALLBACK_TOKEN: "short" }), ConfigError)
      .message;
  for (const name of ["MPESA_CONSUMER_KEY", "MPESA_SHORTCODE", "MPESA_PASSKEY", "MPESA_CALLBACK_TOKEN"]) {
    assertStringIncludes(mpesa, name);
  }
  const ok = loadConfig({
    ...prod,
    PAYMENT_PROVIDER: "stripe",
    STRIPE_SECRET_KEY: "sk_live_x",
    STRIPE_WEBHOOK_SECRET: "whsec_x",
  });
  assertEquals(ok.PAYMENT_PROVIDER, "stripe");
  const slow = assertThrows(() => loadConfig({ PAYMENT_PROVIDER_TIMEOUT_MS: "6000" }), ConfigError).message;
  assertStringIncludes(slow, "PAYMENT_PROVIDER_TIMEOUT_MS must be below DB_QUERY_TIMEOUT_MS");
});
