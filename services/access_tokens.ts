import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import type { Clock } from "./clock.ts";

/** The only algorithm accepted: a token claiming any other `alg` (including `none`) is refused. */
const ALG = "EdDSA";
/** RFC 9068 access-token type; a refresh token or an ID token presented as access is refused. */
const TYP = "at+jwt";

export interface AccessTokenKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  kid: string;
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

/** Verifies signature, algorithm, type, issuer, audience and lifetime; null when any fails. */
export async function verifyAccessToken(settings: AccessTokenSettings, token: string): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(token, settings.keys.publicKey, {
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
    return { userId, sessionId: payload.sid };
  } catch {
    return null;
  }
}

/** Imports an Ed25519 private JWK (with its public `x`) as a signing pair. */
export async function importSigningKey(jwkText: string): Promise<AccessTokenKeys> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(jwkText);
  } catch {
    throw new Error("JWT_PRIVATE_KEY is not valid JSON (expected an Ed25519 private JWK)");
  }
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) {
    throw new Error("JWT_PRIVATE_KEY must be an Ed25519 private JWK (kty OKP, crv Ed25519, with d and x)");
  }
  const privateKey = await importJWK(jwk, ALG) as CryptoKey;
  const publicKey = await importJWK({ kty: "OKP", crv: "Ed25519", x: jwk.x }, ALG) as CryptoKey;
  return { privateKey, publicKey, kid: jwk.kid ?? jwk.x.slice(0, 16) };
}

export async function generateSigningJwk(): Promise<string> {
  const { privateKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
  const jwk = await exportJWK(privateKey);
  return JSON.stringify({ ...jwk, kid: jwk.x!.slice(0, 16) });
}
