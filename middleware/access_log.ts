import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";

/**
 * One structured line per request. Logs the route pattern rather than the URL, and never the
 * query string, headers or body: those can carry health data, e-mail addresses and tokens.
 */
export function accessLog(): MiddlewareHandler<AppEnv> {
  return async function accessLogMiddleware(c, next) {
    const started = performance.now();
    await next();
    c.get("logger").info("request", {
      request_id: c.get("requestId"),
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      user_id: c.get("principal")?.userId ?? null,
    });
  };
}
