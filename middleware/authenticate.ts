import type { Context, MiddlewareHandler } from "hono";
import { Unauthenticated } from "../errors.ts";
import { verifyAccessToken } from "../services/access_tokens.ts";
import { loadPrincipal, type Principal } from "../services/sessions.ts";
import type { AppEnv } from "./env.ts";

/**
 * Requires a valid access token whose session is still live; sets `principal`. `queryToken` also
 * takes `?access_token=` (for EventSource clients, which cannot set headers; the access log never
 * records query strings).
 */
export function authenticate(options: { queryToken?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async function authenticateMiddleware(c, next) {
    const fromQuery = options.queryToken ? c.req.query("access_token") : undefined;
    const header = c.req.header("authorization") ?? (fromQuery ? `Bearer ${fromQuery}` : undefined);
    const match = header?.match(/^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i);
    if (!match) {
      throw new Unauthenticated("not-authenticated", "Send an access token as `Authorization: Bearer <token>`");
    }
    const { tokens, db, clock } = c.get("deps");
    const claims = await verifyAccessToken(tokens, match[1]);
    const principal = claims && await loadPrincipal(db, claims.userId, claims.sessionId, clock());
    if (!principal) throw new Unauthenticated("not-authenticated", "The access token is invalid, expired or revoked");
    c.set("principal", principal);
    await next();
  };
}

/** The authenticated caller; only valid behind `authenticate()`. */
export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get("principal");
  if (!principal) throw new Unauthenticated("not-authenticated", "Authentication required");
  return principal;
}
