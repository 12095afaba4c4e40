import { timingSafeEqual } from "node:crypto";
import { base64url } from "jose";

/**
 * Opaque bearer secrets in the form `id.secret` (after Lucia's session tokens): the id finds the
 * row, the 256-bit secret proves possession, and only SHA-256(secret) is ever stored.
 */
export interface OpaqueToken {
  id: string;
  secret: string;
  token: string;
}

export function newOpaqueToken(): OpaqueToken {
  const id = crypto.randomUUID();
  const secret = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  return { id, secret, token: `${id}.${secret}` };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Splits a presented token; null when it cannot be one of ours. */
export function parseOpaqueToken(token: string): { id: string; secret: string } | null {
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!UUID.test(id) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { id, secret };
}

export async function hashSecret(secret: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
}

/** Constant-time comparison of a presented secret with a stored hash. */
export async function secretMatches(secret: string, storedHash: Uint8Array): Promise<boolean> {
  const presented = await hashSecret(secret);
  return presented.length === storedHash.length && timingSafeEqual(presented, new Uint8Array(storedHash));
}
