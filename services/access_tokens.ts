import {
  base64url,
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  jwtVerify,
  SignJWT,
} from "jose";
import type { Clock } from "./clock.ts";

/** The only algorithm accepted: a token claiming any other `alg` (including `none`) is refused. */
const ALG = "EdDSA";
/** RFC 9068 access-token type; a refresh token or an ID token presented as access is refused. */
const TYP = "at+jwt";

export interface AccessTokenKeys {
  /** The one key that signs, and its id (the `kid` of every token issued). */
  privateKey: CryptoKey;
  kid: string;
  /** Public keys that verify, by `kid`: the signing key's own and the retired ones still listed. */
  verifying: Map<string, CryptoKey>;
  /** The public JWKs published at `/.well-known/jwks.json`. */
  jwks: JWK[];
  /** A secret derived from the signing key for page cursors: every instance sharing the key agrees. */
  cursorKey: Uint8Array;
}

export interface AccessTokenSettings {
  keys: AccessTokenKeys;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clock: Clock;
}

export interface AccessClaims {
  userId: number;
  sessionId: string;
}

export async function signAccessToken(settings: AccessTokenSettings, claims: AccessClaims): Promise<string> {
  const now = Math.floor(settings.clock().getTime() / 1000);
  return await new SignJWT({ sid: claims.sessionId })
    .setProtectedHeader({ alg: ALG, typ: TYP, kid: settings.keys.kid })
    .setSubject(String(claims.userId))
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + settings.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(settings.keys.privateKey);
}

/**
 * Verifies signature, algorithm, type, issuer, audience and lifetime; null when any fails. A token
 * that verified once is remembered by its exact text (so any altered byte is verified afresh) and
 * only its lifetime is checked again: an Ed25519 verification was an eighth of a one-row read.
 * Revocation is not this function's business: the session is looked up on every request.
 */
export async function verifyAccessToken(settings: AccessTokenSettings, token: string): Promise<AccessClaims | null> {
  const now = Math.floor(settings.clock().getTime() / 1000);
  const verified = verifiedTokens(settings);
  const known = verified.get(token);
  if (known && known.issuer === settings.issuer && known.audience === settings.audience) {
    return live(known, now, settings.ttlSeconds) ? known.claims : null;
  }
  try {
    const { payload } = await jwtVerify(token, (header) => verifyingKey(settings.keys, header), {
      algorithms: [ALG],
      typ: TYP,
      issuer: settings.issuer,
      audience: settings.audience,
      currentDate: settings.clock(),
      maxTokenAge: settings.ttlSeconds,
      requiredClaims: ["sub", "sid", "exp", "iat"],
    });
    const userId = Number(payload.sub);
    if (!Number.isSafeInteger(userId) || typeof payload.sid !== "string") return null;
    const claims = { userId, sessionId: payload.sid };
    if (verified.size >= VERIFIED_TOKENS_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, {
      claims,
      iat: payload.iat!,
      exp: payload.exp!,
      issuer: settings.issuer,
      audience: settings.audience,
    });
    return claims;
  } catch {
    return null;
  }
}

/**
 * Tokens remembered per set of keys, so a rotation (a new set) starts afresh; the oldest go first.
 * The issuer and audience they verified for are kept and must still be the ones expected.
 */
const VERIFIED_TOKENS_MAX = 4096;
interface VerifiedToken {
  claims: AccessClaims;
  iat: number;
  exp: number;
  issuer: string;
  audience: string;
}
const verifiedByKeys = new WeakMap<AccessTokenKeys, Map<string, VerifiedToken>>();

function verifiedTokens(settings: AccessTokenSettings): Map<string, VerifiedToken> {
  let verified = verifiedByKeys.get(settings.keys);
  if (!verified) verifiedByKeys.set(settings.keys, verified = new Map());
  return verified;
}

/** The lifetime checks jwtVerify makes (no clock tolerance): issued in the past, within the TTL, not expired. */
function live(token: VerifiedToken, now: number, ttlSeconds: number): boolean {
  return token.iat <= now && now - token.iat <= ttlSeconds && now < token.exp;
}

/**
 * The key a token names by `kid`; a token without one is checked against the signing key. A kid
 * that is not listed (a key retired and dropped, or never ours) verifies nothing.
 */
function verifyingKey(keys: AccessTokenKeys, header: JWTHeaderParameters): CryptoKey {
  const key = keys.verifying.get(header.kid ?? keys.kid);
  if (!key) throw new Error("unknown kid");
  return key;
}

/**
 * Imports the Ed25519 private JWK that signs (with its public `x`) and, for rotation, the public
 * JWKs of retired keys whose tokens are still accepted until they expire.
 */
export async function importSigningKey(jwkText: string, retiredKeysText?: string): Promise<AccessTokenKeys> {
  const jwk = parseJson<JWK>(jwkText, "JWT_PRIVATE_KEY is not valid JSON (expected an Ed25519 private JWK)");
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) {
    throw new Error("JWT_PRIVATE_KEY must be an Ed25519 private JWK (kty OKP, crv Ed25519, with d and x)");
  }
  const kid = jwk.kid ?? jwk.x.slice(0, 16);
  const published = [publicJwk({ ...jwk, kid }, "JWT_PRIVATE_KEY")];
  const retired = retiredKeysText === undefined
    ? []
    : parseJson<unknown>(retiredKeysText, "JWT_PUBLIC_KEYS is not valid JSON (expected an array of public JWKs)");
  if (!Array.isArray(retired)) throw new Error("JWT_PUBLIC_KEYS must be a JSON array of Ed25519 public JWKs");
  for (const [i, key] of retired.entries()) {
    const pub = publicJwk(key as JWK, `JWT_PUBLIC_KEYS[${i}]`);
    if (!published.some((p) => p.kid === pub.kid)) published.push(pub);
  }
  const verifying = new Map<string, CryptoKey>();
  for (const pub of published) verifying.set(pub.kid!, await importJWK(pub, ALG) as CryptoKey);
  return {
    privateKey: await importJWK(jwk, ALG) as CryptoKey,
    kid,
    verifying,
    jwks: published,
    cursorKey: await deriveSecret(jwk.d, "patient-portal page cursors v1"),
  };
}

/** The public half of an Ed25519 JWK, as published: kty, crv, x, kid, alg and use only. */
function publicJwk(jwk: JWK, name: string): JWK {
  if (!jwk || typeof jwk !== "object" || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") {
    throw new Error(`${name} must be an Ed25519 JWK (kty OKP, crv Ed25519, with x)`);
  }
  if (name !== "JWT_PRIVATE_KEY" && jwk.d) throw new Error(`${name} must be a public JWK (it has a private part, d)`);
  if (!jwk.kid && name !== "JWT_PRIVATE_KEY") throw new Error(`${name} needs a kid`);
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, kid: jwk.kid ?? jwk.x.slice(0, 16), alg: ALG, use: "sig" };
}

function parseJson<T>(text: string, problem: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(problem);
  }
}

/** HKDF-SHA256 of the private key's bytes for one purpose (domain-separated from signing). */
async function deriveSecret(d: string, purpose: string): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey("raw", new Uint8Array(base64url.decode(d)), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(purpose) },
    material,
    256,
  );
  return new Uint8Array(bits);
}

export async function generateSigningJwk(): Promise<string> {
  const { privateKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
  const jwk = await exportJWK(privateKey);
  return JSON.stringify({ ...jwk, kid: jwk.x!.slice(0, 16) });
}
