import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Config } from "../config.ts";
import { Forbidden } from "../errors.ts";
import { consoleSessionOf, csrfTokenOf, sameToken } from "../services/console_sessions.ts";
import { loadPrincipal } from "../services/sessions.ts";
import type { AppEnv } from "./env.ts";
import { contextOf } from "./service_context.ts";

/**
 * The console's session cookie. Outside development it is `__Host-` prefixed and `Secure`
 * (browsers treat http://localhost and 127.0.0.1 as secure, so tests over plain HTTP keep it);
 * in development it is neither, so the console also opens on a LAN address over plain HTTP.
 * Always HttpOnly, SameSite=Strict and Path=/.
 */
export function consoleCookie(config: Config): { name: string; secure: boolean } {
  return config.APP_ENV === "development"
    ? { name: "portal_console", secure: false }
    : { name: "__Host-portal_console", secure: true };
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/**
 * Requires a live console session (else a redirect to the sign-in page) whose user holds
 * `admin:console`, and on every unsafe method a form carrying the session's CSRF token (else
 * 403, nothing changed). Sets `principal` and `csrf`; the session's idle clock restarts.
 */
export function consoleSession(): MiddlewareHandler<AppEnv> {
  return async function consoleSessionMiddleware(c, next) {
    const { db, clock, config } = c.get("deps");
    const cookie = getCookie(c, consoleCookie(config).name);
    const now = clock();
    const session = await consoleSessionOf(db, cookie, now, config.CONSOLE_IDLE_MINUTES * 60);
    const principal = session && await loadPrincipal(db, session.userId, session.sessionId, now);
    if (!principal || !cookie) return signInRedirect(c);
    c.set("principal", principal);
    if (!principal.permissions.has("admin:console")) {
      await contextOf(c).uow.record({
        action: "access_denied",
        outcome: "denied",
        targetTable: c.get("audit")?.table ?? null,
        details: { permission: "admin:console" },
      });
      throw new Forbidden("Your roles do not include the admin console");
    }
    const csrf = await csrfTokenOf(cookie);
    if (!SAFE_METHODS.has(c.req.method)) {
      const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
      const sent = typeof form._csrf === "string" ? form._csrf : "";
      if (!sameToken(sent, csrf)) {
        throw new Forbidden("The form's security token is missing or wrong; reload the page and try again", "csrf");
      }
    }
    c.set("csrf", csrf);
    return await next();
  };
}

/** 303 to the sign-in page, coming back here after (GET only; a refused POST changed nothing). */
export function signInRedirect(c: Context<AppEnv>): Response {
  const url = new URL(c.req.url);
  const back = c.req.method === "GET" ? `?next=${encodeURIComponent(url.pathname + url.search)}` : "";
  return c.redirect(`/admin/login${back}`, 303);
}
