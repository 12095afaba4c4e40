import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "./env.ts";

/** Request headers a browser front end sends (Authorization makes every call preflighted). */
const ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"];
/** Response headers a front end may read besides the CORS-safelisted ones. */
const EXPOSE_HEADERS = [
  "X-Request-Id",
  "Retry-After",
  "Idempotent-Replayed",
  "Location",
  "Content-Disposition",
  "WWW-Authenticate",
];

/**
 * CORS for the origins listed in `CORS_ORIGINS`, by exact match; never `*`, and never credentials
 * (the API takes bearer tokens, not cookies, so a browser sends nothing on its own). A request
 * from any other origin gets no CORS header at all, so the browser keeps the answer from the
 * page; a preflight from it is not answered either (405). OWASP ASVS 14.5.3.
 */
export function corsPolicy(origins: readonly string[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set(origins);
  const handler = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: 600,
    credentials: false,
  });
  return async function corsMiddleware(c, next) {
    const origin = c.req.header("origin");
    if (origin && allowed.has(origin)) return await handler(c, next);
    await next();
    if (allowed.size > 0) c.header("Vary", "Origin", { append: true });
  };
}
