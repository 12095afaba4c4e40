/**
 * Issue 9, point 22: production refuses insecure settings with one line naming each; signing keys
 * rotate: tokens name their key by `kid`, a retired key still listed in JWT_PUBLIC_KEYS verifies,
 * an unlisted one does not, and `GET /.well-known/jwks.json` publishes the public keys only.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes, assertThrows } from "@std/assert";
import { base64url, type JWK, SignJWT } from "jose";
import { ConfigError, loadConfig } from "../config.ts";
import { type AccessTokenKeys, generateSigningJwk, importSigningKey } from "../services/access_tokens.ts";
import { loadSigningKey } from "../services/signing_key.ts";
import { appTest, type TestApp } from "./_fixtures.ts";

const SECURE_PRODUCTION = {
  APP_ENV: "production",
  JWT_PRIVATE_KEY: "{}",
  DATABASE_URL: "postgres://u@db.example/portal",
  PUBLIC_URL: "https://portal.example",
  MAIL_TRANSPORT: "smtp",
  SMTP_HOST: "smtp.example",
  AUDIT_HMAC_KEY: btoa("k".repeat(32)),
  PAYMENT_PROVIDER: "stripe",
  STRIPE_SECRET_KEY: "sk_live_x",
  STRIPE_WEBHOOK_SECRET: "whsec_x",
};

Deno.test("production starts with https links, SMTP over TLS and https CORS origins", () => {
  for (const security of ["tls", "starttls"]) {
    const config = loadConfig({ ...SECURE_PRODUCTION, SMTP_SECURITY: security, CORS_ORIGINS: "https://app.example" });
    assertEquals(config.SMTP_SECURITY, security);
  }
  assertEquals(loadConfig({ ...SECURE_PRODUCTION, MAIL_TRANSPORT: "log" }).MAIL_TRANSPORT, "log");
});

Deno.test("production refuses an http PUBLIC_URL, file mail, plain SMTP and http CORS origins, one line each", () => {
  const refused: [Record<string, string>, string, string][] = [
    [{ PUBLIC_URL: "http://portal.example" }, "PUBLIC_URL", "https://"],
    [{ RESET_URL: "http://app.portal.example/reset" }, "RESET_URL", "https://"],
    [{ STRIPE_API_URL: "http://stripe.internal" }, "STRIPE_API_URL", "https://"],
    [{ MPESA_API_URL: "http://daraja.internal" }, "MPESA_API_URL", "https://"],
    [{ MAIL_TRANSPORT: "file" }, "MAIL_TRANSPORT", "file"],
    [{ SMTP_SECURITY: "none" }, "SMTP_SECURITY", "SMTP_ALLOW_INSECURE"],
    [{ CORS_ORIGINS: "https://a.example,http://b.example" }, "CORS_ORIGINS", "http://b.example"],
  ];
  for (const [override, name, words] of refused) {
    const error = assertThrows(() => loadConfig({ ...SECURE_PRODUCTION, ...override }), ConfigError);
    assertStringIncludes(error.message, name);
    assertStringIncludes(error.message, words);
    assertEquals(error.message.includes("\n"), false);
    // The same settings are fine outside production.
    loadConfig({ ...SECURE_PRODUCTION, ...override, APP_ENV: "development" });
  }
  const allowed = loadConfig({ ...SECURE_PRODUCTION, SMTP_SECURITY: "none", SMTP_ALLOW_INSECURE: "1" });
  assertEquals([allowed.SMTP_SECURITY, allowed.SMTP_ALLOW_INSECURE], ["none", true]);
  assertThrows(() => loadConfig({ SMTP_ALLOW_INSECURE: "yes" }), ConfigError, "SMTP_ALLOW_INSECURE");
  // Everything wrong at once is still one line, naming each.
  const all = assertThrows(() =>
    loadConfig({
      ...SECURE_PRODUCTION,
      PUBLIC_URL: "http://x.example",
      MAIL_TRANSPORT: "file",
      CORS_ORIGINS: "http://y.example",
    }), ConfigError);
  for (const name of ["PUBLIC_URL", "MAIL_TRANSPORT", "CORS_ORIGINS"]) assertStringIncludes(all.message, name);
});

const publicOf = (jwkText: string): JWK => {
  const { d: _d, ...pub } = JSON.parse(jwkText);
  return pub;
};

Deno.test("JWT_PUBLIC_KEYS: public JWKs with a kid, in a JSON array; anything else stops the start", async () => {
  const [current, retired] = [await generateSigningJwk(), await generateSigningJwk()];
  const config = loadConfig({ JWT_PRIVATE_KEY: current, JWT_PUBLIC_KEYS: JSON.stringify([publicOf(retired)]) });
  const keys = await loadSigningKey(config);
  assertEquals([...keys.verifying.keys()], [JSON.parse(current).kid, JSON.parse(retired).kid]);
  assertThrows(() => loadConfig({ JWT_PUBLIC_KEYS: "{not json" }), ConfigError, "JWT_PUBLIC_KEYS");
  assertThrows(() => loadConfig({ JWT_PUBLIC_KEYS: "{}" }), ConfigError, "JWT_PUBLIC_KEYS");
  const bad: [unknown[], string][] = [
    [[JSON.parse(retired)], "private part"],
    [[{ ...publicOf(retired), kid: undefined }], "kid"],
    [[{ kty: "RSA", n: "x", e: "AQAB", kid: "r" }], "Ed25519"],
  ];
  for (const [list, words] of bad) {
    await assertRejects(() => importSigningKey(current, JSON.stringify(list)), words);
  }
});

function useKeys(api: TestApp, keys: AccessTokenKeys) {
  api.deps.tokens.keys = keys;
}

const status = async (api: TestApp, token: string) => (await api.request("GET", "/me/", { token })).status;

appTest("a token signed by a retired key still listed verifies; by an unlisted key it does not", async (t, api) => {
  const [oldJwk, newJwk, strangerJwk] = [
    await generateSigningJwk(),
    await generateSigningJwk(),
    await generateSigningJwk(),
  ];
  const alice = await api.makePatient();
  useKeys(api, await importSigningKey(oldJwk));
  const fromOld = await api.signIn(alice);
  const kidOf = (token: string) => JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[0]))).kid;
  assertEquals(kidOf(fromOld.access), JSON.parse(oldJwk).kid);

  await t.step("after the rotation, the old key is retired but listed: its tokens still verify", async () => {
    useKeys(api, await importSigningKey(newJwk, JSON.stringify([publicOf(oldJwk)])));
    assertEquals(await status(api, fromOld.access), 200);
    const fromNew = await api.signIn(alice);
    assertEquals(kidOf(fromNew.access), JSON.parse(newJwk).kid, "the new key signs");
    assertEquals(await status(api, fromNew.access), 200);
  });

  await t.step("a key that is not listed verifies nothing, whatever kid the token claims", async () => {
    const stranger = await importSigningKey(strangerJwk);
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(fromOld.access.split(".")[1])));
    const forge = (kid?: string) =>
      new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", ...(kid ? { kid } : {}) })
        .setSubject(claims.sub).setIssuer(claims.iss).setAudience(claims.aud).setIssuedAt(claims.iat)
        .setExpirationTime(claims.exp).sign(stranger.privateKey);
    for (const kid of [undefined, stranger.kid, JSON.parse(oldJwk).kid, JSON.parse(newJwk).kid]) {
      assertEquals(await status(api, await forge(kid)), 401, `kid ${kid}`);
    }
  });

  await t.step("once the old key is dropped from the list, its tokens are refused", async () => {
    useKeys(api, await importSigningKey(newJwk));
    assertEquals(await status(api, fromOld.access), 401);
  });
});

appTest("GET /.well-known/jwks.json lists the signing key and the retired ones, public parts only", async (_t, api) => {
  const [current, retired] = [await generateSigningJwk(), await generateSigningJwk()];
  useKeys(api, await importSigningKey(current, JSON.stringify([publicOf(retired)])));
  const res = await api.request("GET", "/.well-known/jwks.json");
  assertEquals(res.status, 200);
  const keys = res.body.keys as JWK[];
  assertEquals(keys.map((k) => k.kid), [JSON.parse(current).kid, JSON.parse(retired).kid]);
  for (const key of keys) {
    assertEquals(Object.keys(key).sort(), ["alg", "crv", "kid", "kty", "use", "x"]);
    assertEquals([key.kty, key.crv, key.alg, key.use], ["OKP", "Ed25519", "EdDSA", "sig"]);
  }
  assert(!res.text.includes(JSON.parse(current).d), "never the private key");
  assertEquals(res.headers.get("cache-control"), "public, max-age=300");
  const doc = await api.request("GET", "/openapi.json");
  const op = (doc.body.paths as Record<string, Record<string, { security: unknown }>>)["/.well-known/jwks.json"]?.get;
  assertEquals(op?.security, [], "declared, public");
});
