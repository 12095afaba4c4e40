import { auditKeyBytes, type Config } from "../config.ts";
import { createKeyFileOnce } from "./key_file.ts";

/**
 * The audit trail's keys, derived from one secret that lives outside the database: whoever can
 * write to the database but not read the environment cannot recompute a row's HMAC, so a rewritten
 * row (or a rewritten chain) does not verify.
 */
export interface AuditKeys {
  /** HMAC-SHA256 over each row and its predecessor's hash. */
  chain: CryptoKey;
  /** HMAC-SHA256 over published checkpoints (derived, so a row digest can never pass for a checkpoint). */
  checkpoint: CryptoKey;
}

const HMAC = { name: "HMAC", hash: "SHA-256" } as const;

export async function importAuditKey(secret: Uint8Array): Promise<AuditKeys> {
  const raw = new Uint8Array(secret);
  const chain = await crypto.subtle.importKey("raw", raw, HMAC, false, ["sign", "verify"]);
  const derived = await crypto.subtle.sign("HMAC", chain, new TextEncoder().encode("patient-portal audit checkpoint"));
  const checkpoint = await crypto.subtle.importKey("raw", derived, HMAC, false, ["sign", "verify"]);
  return { chain, checkpoint };
}

/** A new key as AUDIT_HMAC_KEY takes it: base64 of 32 random bytes. */
export function generateAuditKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

/**
 * AUDIT_HMAC_KEY when set (required in production); otherwise the development key kept in
 * `DATA_DIR/audit_hmac_key`, generated on first start unless `create` is false (a verifier must
 * not invent a key: it would only prove that nothing verifies).
 */
export async function loadAuditKey(
  config: Pick<Config, "AUDIT_HMAC_KEY" | "APP_ENV" | "DATA_DIR">,
  options: { create?: boolean } = {},
): Promise<AuditKeys> {
  if (config.AUDIT_HMAC_KEY) return importAuditKey(auditKeyBytes(config.AUDIT_HMAC_KEY)!);
  if (config.APP_ENV === "production") throw new Error("AUDIT_HMAC_KEY is required when APP_ENV=production");
  const path = `${config.DATA_DIR}/audit_hmac_key`;
  try {
    const bytes = auditKeyBytes(await Deno.readTextFile(path));
    if (!bytes) throw new Error(`${path} does not hold a base64 key of at least 32 bytes`);
    return importAuditKey(bytes);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    if (options.create === false) {
      throw new Error(`AUDIT_HMAC_KEY is not set and ${path} does not exist: give the key the server seals with`);
    }
  }
  await Deno.mkdir(config.DATA_DIR, { recursive: true });
  const kept = await createKeyFileOnce(path, generateAuditKey() + "\n");
  return importAuditKey(auditKeyBytes(kept)!);
}
