import type { Config } from "../config.ts";
import { type AccessTokenKeys, generateSigningJwk, importSigningKey } from "./access_tokens.ts";
import { createKeyFileOnce } from "./key_file.ts";

/**
 * The access-token signing key: from JWT_PRIVATE_KEY when set (required in production);
 * otherwise generated on first start and kept in the data directory for development. The public
 * keys in JWT_PUBLIC_KEYS (retired signing keys) keep verifying their tokens by `kid`.
 */
export async function loadSigningKey(config: Config): Promise<AccessTokenKeys> {
  const retired = config.JWT_PUBLIC_KEYS;
  if (config.JWT_PRIVATE_KEY) return importSigningKey(config.JWT_PRIVATE_KEY, retired);
  if (config.APP_ENV === "production") throw new Error("JWT_PRIVATE_KEY is required when APP_ENV=production");
  const path = `${config.DATA_DIR}/jwt_signing_key.json`;
  try {
    return await importSigningKey(await Deno.readTextFile(path), retired);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.mkdir(config.DATA_DIR, { recursive: true });
  const jwk = await createKeyFileOnce(path, await generateSigningJwk());
  return importSigningKey(jwk, retired);
}
