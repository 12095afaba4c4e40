/**
 * Signing in and out of the console: the same sign-in service as `POST /token/` (its rate limits,
 * throttle and audit records, here with `via: "console"`), and the session it opens is an API
 * session. The sign-in form is guarded by a double-submitted token (no session exists yet).
 */
import type { Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { Forbidden, RateLimited, Unauthenticated } from "../../errors.ts";
import { consoleCookie } from "../../middleware/console.ts";
import type { AppEnv } from "../../middleware/env.ts";
import { limitBody } from "../../middleware/limits.ts";
import { contextOf } from "../../middleware/service_context.ts";
import { openConsoleSession, randomToken, sameToken } from "../../services/console_sessions.ts";
import { REFRESH_IDLE_SECONDS } from "../../services/sessions.ts";
import { signOut } from "../../services/sign_in.ts";
import { Layout } from "./layout.tsx";
import { declarePage } from "./page.ts";

const FORM_COOKIE = "portal_console_form";

export function signInPages(app: Hono<AppEnv>) {
  app.get("/admin/login", (c) => signInForm(c, 200));

  app.post("/admin/login", limitBody(16 * 1024), async (c) => {
    const form = await c.req.parseBody();
    const token = getCookie(c, FORM_COOKIE) ?? "";
    if (!token || typeof form._csrf !== "string" || !sameToken(form._csrf, token)) {
      return signInForm(c, 403, "The form expired; please try again");
    }
    const login = typeof form.login === "string" ? form.login : "";
    const password = typeof form.password === "string" ? form.password : "";
    try {
      const refresh = await openConsoleSession(contextOf(c), login, password);
      const cookie = consoleCookie(c.get("deps").config);
      setCookie(c, cookie.name, refresh, {
        path: "/",
        httpOnly: true,
        secure: cookie.secure,
        sameSite: "Strict",
        maxAge: REFRESH_IDLE_SECONDS,
      });
      deleteCookie(c, FORM_COOKIE, { path: "/admin/", secure: cookie.secure });
      return c.redirect(safeNext(c.req.query("next")), 303);
    } catch (e) {
      if (e instanceof RateLimited) {
        c.header("Retry-After", String(e.details.retryAfterSeconds ?? 60));
        return signInForm(c, 429, "Too many attempts; try again later");
      }
      if (e instanceof Forbidden) return signInForm(c, 403, e.detail);
      if (e instanceof Unauthenticated) {
        return signInForm(c, 401, "The credentials are invalid or the account cannot sign in");
      }
      throw e;
    }
  });

  declarePage(
    app,
    { method: "post", path: "/admin/logout", audit: { action: "logout", table: "sessions" } },
    async (c) => {
      await signOut(contextOf(c));
      const cookie = consoleCookie(c.get("deps").config);
      deleteCookie(c, cookie.name, { path: "/", secure: cookie.secure });
      return c.redirect("/admin/login", 303);
    },
  );
}

function signInForm(c: Context<AppEnv>, status: 200 | 401 | 403 | 429, error?: string) {
  const token = randomToken();
  const secure = consoleCookie(c.get("deps").config).secure;
  setCookie(c, FORM_COOKIE, token, { path: "/admin/", httpOnly: true, secure, sameSite: "Strict", maxAge: 3600 });
  const next = c.req.query("next");
  const action = next ? `/admin/login?next=${encodeURIComponent(safeNext(next))}` : "/admin/login";
  return c.html(
    <Layout title="Sign in" error={error}>
      <div class="signin">
        <form method="post" action={action}>
          <input type="hidden" name="_csrf" value={token} />
          <label>
            Username or e-mail
            <input name="login" autocomplete="username" required maxlength={254} autofocus />
          </label>
          <label>
            Password
            <input name="password" type="password" autocomplete="current-password" required maxlength={1024} />
          </label>
          <button type="submit">Sign in</button>
        </form>
      </div>
    </Layout>,
    status,
  );
}

/** Only a path of the console itself (no other host, no `//evil`), else the dashboard. */
function safeNext(next: string | undefined): string {
  return next && /^\/admin\/[A-Za-z0-9/_?=&%.-]*$/.test(next) && !next.includes("//") ? next : "/admin/";
}
