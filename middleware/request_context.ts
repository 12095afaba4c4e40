import type { Context, MiddlewareHandler } from "hono";
import { type RequestOrigin, USER_AGENT_MAX } from "../db/audit_logs.ts";
import type { AppDeps } from "../services/deps.ts";
import { requestScope } from "../services/last_resort.ts";
import type { AppEnv } from "./env.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Puts the deps, the request's id and the client's origin on the context. The request id is the
 * server's own UUID (records of two users can never share one); a well-formed `X-Request-Id` from
 * the client is kept beside it as `client_request_id`. The client address comes only from the
 * configured trusted proxy header: anything else is spoofable, so without one no address is
 * recorded from headers.
 */
export function requestContext(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const proxyHeader = deps.config.TRUSTED_PROXY_HEADER;
  const hops = deps.config.TRUSTED_PROXY_HOPS;
  return async function requestContextMiddleware(c, next) {
    const incoming = c.req.header("x-request-id");
    const requestId = crypto.randomUUID();
    c.set("deps", deps);
    c.set("logger", deps.logger);
    c.set("requestId", requestId);
    c.set("origin", {
      ipAddress: proxyHeader && c.req.header(proxyHeader) !== undefined
        ? proxiedAddress(c.req.header(proxyHeader), hops)
        : socketAddress(c.env),
      userAgent: boundedUserAgent(c.req.header("user-agent")),
      requestId,
      clientRequestId: incoming && REQUEST_ID.test(incoming) ? incoming : null,
    });
    c.header("X-Request-Id", requestId);
    await requestScope.run(requestId, next);
  };
}

/**
 * The address the trusted proxy saw: proxies append to `X-Forwarded-For`, so everything left of
 * what they appended is the client's own say and is ignored. With `hops` trusted proxies in front,
 * the address is the `hops`-th entry from the right (MDN, "X-Forwarded-For": selecting an IP
 * address). Fewer entries than that, or one that is not an address, is no address at all.
 */
export function proxiedAddress(headerValue: string | undefined, hops: number): string | null {
  if (!headerValue) return null;
  const entries = headerValue.split(",").map((e) => e.trim());
  const entry = entries.length >= hops ? entries[entries.length - hops] : null;
  return entry && /^[0-9A-Za-z:.[\]%_-]{1,64}$/.test(entry) ? entry : null;
}

function socketAddress(env: unknown): string | null {
  const remote = (env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr;
  return remote?.hostname ?? null;
}

/** The user agent as recorded everywhere: control characters dropped, at most 500 characters. */
export function boundedUserAgent(value: string | undefined): string | null {
  if (!value) return null;
  // deno-lint-ignore no-control-regex -- control characters are what is dropped
  const text = [...value.replace(/[\u0000-\u001f\u007f]/g, "")].slice(0, USER_AGENT_MAX).join("");
  return text || null;
}

/** Where the current request came from, as audit records want it. */
export function originOf(c: Context<AppEnv>): RequestOrigin {
  return c.get("origin");
}
