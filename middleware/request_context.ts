import type { Context, MiddlewareHandler } from "hono";
import type { RequestOrigin } from "../db/audit_logs.ts";
import type { AppDeps } from "../services/deps.ts";
import { requestScope } from "../services/last_resort.ts";
import type { AppEnv } from "./env.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Puts the deps, a request id (the caller's `X-Request-Id` when well-formed) and the client's
 * origin on the context. The client address comes only from the configured trusted proxy
 * header: anything else is spoofable, so without one no address is recorded from headers.
 */
export function requestContext(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const proxyHeader = deps.config.TRUSTED_PROXY_HEADER;
  return async function requestContextMiddleware(c, next) {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("deps", deps);
    c.set("logger", deps.logger);
    c.set("requestId", requestId);
    c.set("origin", {
      ipAddress: clientIp(c.req.header(proxyHeader ?? "") ?? null, proxyHeader, c.env),
      userAgent: c.req.header("user-agent")?.slice(0, 500) ?? null,
      requestId,
    });
    c.header("X-Request-Id", requestId);
    await requestScope.run(requestId, next);
  };
}

function clientIp(headerValue: string | null, proxyHeader: string | undefined, env: unknown): string | null {
  if (proxyHeader && headerValue) {
    // x-forwarded-for: the left-most entry is the client as seen by the first proxy.
    const first = headerValue.split(",")[0].trim();
    return first.slice(0, 64) || null;
  }
  const remote = (env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr;
  return remote?.hostname ?? null;
}

/** Where the current request came from, as audit records want it. */
export function originOf(c: Context<AppEnv>): RequestOrigin {
  return c.get("origin");
}
