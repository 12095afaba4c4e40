/**
 * What every console response gets: audit records marked `via: "console"`, its own CSP (its
 * style sheet, inline SVG, forms to itself; no script), and an HTML page instead of a problem
 * document when something is refused (401 goes to the sign-in page).
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { signInRedirect } from "../../middleware/console.ts";
import type { Principal } from "../../services/sessions.ts";
import { Layout } from "./layout.tsx";

const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'";

const TITLES: Record<number, string> = {
  400: "Bad request",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  422: "Check the form",
  429: "Too many attempts",
  503: "Unavailable",
};

export function consoleFrame(): MiddlewareHandler<AppEnv> {
  return async function consoleFrameMiddleware(c, next) {
    c.set("via", "console");
    await next();
    const type = c.res.headers.get("content-type") ?? "";
    if (c.res.status >= 400 && type.startsWith("application/problem+json")) {
      if (c.res.status === 401) {
        c.res = undefined;
        c.res = signInRedirect(c);
      } else {
        const problem = await c.res.clone().json().catch(() => ({})) as {
          detail?: string;
          errors?: { detail: string }[];
        };
        const status = c.res.status as 400;
        const retryAfter = c.res.headers.get("retry-after");
        const fields = problem.errors?.map((e) => e.detail) ?? [];
        const html = await c.html(
          <Layout title={TITLES[status] ?? "Error"} principal={consoleUser(c.get("principal"))} csrf={c.get("csrf")}>
            <p class="notice error" role="alert">{problem.detail ?? "The request was refused"}</p>
            {fields.length > 0 && <ul>{fields.map((f) => <li>{f}</li>)}</ul>}
            <p>
              <a href="/admin/">Back to the dashboard</a>
            </p>
          </Layout>,
          status,
        );
        c.res = undefined;
        c.res = html;
        if (retryAfter) c.res.headers.set("retry-after", retryAfter);
      }
    }
    c.res.headers.set("Content-Security-Policy", CSP);
  };
}

/** The signed-in user, if they may use the console (a refused one sees no navigation). */
function consoleUser(principal: Principal | undefined): Principal | undefined {
  return principal?.permissions.has("admin:console") ? principal : undefined;
}
