import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./env.ts";

/**
 * Security headers on every response, errors and 404s included (OWASP ASVS 14.4): Hono's
 * `secureHeaders` (nosniff, no framing, no referrer, HSTS, …) and, for an API that answers JSON,
 * a CSP that allows nothing. `Cache-Control: no-store` by default, so no token, health record or
 * account is kept by a browser or a shared cache (ASVS 8.2.1); a route that is safe to cache (the
 * docs page and its files, the public keys) sets its own `Cache-Control` and CSP, which are kept.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  const secure = secureHeaders({
    overwrite: false,
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
    xFrameOptions: "DENY",
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
  });
  return async function securityHeadersMiddleware(c, next) {
    await secure(c, async () => {
      await next();
      if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
    });
  };
}
