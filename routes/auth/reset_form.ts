/**
 * `GET /reset-password/`: the page a reset link opens when no front end is configured
 * (`RESET_URL`). One self-contained form, no outside assets, under a CSP that allows its own
 * inline script and style by hash and nothing else; the script reads the token from the address
 * (the server never writes it into the page), clears it from the history, and posts the token and
 * the new password to the JSON endpoint.
 */
import { declareRoute, newRouter } from "../_route.ts";

const SCRIPT = `const form = document.getElementById("reset");
const status = document.getElementById("status");
const token = new URLSearchParams(location.search).get("token") || "";
history.replaceState(null, "", location.pathname);
if (!token) status.textContent = "This link has no reset token: ask for a new one.";
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = form.elements.new_password.value;
  if (password !== form.elements.again.value) {
    status.textContent = "The two passwords differ.";
    return;
  }
  status.textContent = "Saving…";
  const res = await fetch(location.pathname, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, new_password: password }),
  });
  if (res.status === 204) {
    form.hidden = true;
    status.textContent = "Your password was changed. Sign in with it; every other session has ended.";
    return;
  }
  const problem = await res.json().catch(() => ({}));
  const detail = problem.errors && problem.errors[0] ? problem.errors[0].detail : problem.detail;
  status.textContent = detail || "The password could not be changed; try again later.";
});
`;

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin-top:1rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1.5rem;padding:.5rem 1rem}#status{margin-top:1rem;font-weight:600}`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Choose a new password</title><style>${STYLE}</style></head>
<body><h1>Choose a new password</h1>
<form id="reset"><label>New password <input name="new_password" type="password" autocomplete="new-password"
minlength="8" maxlength="128" required></label>
<label>The same again <input name="again" type="password" autocomplete="new-password" required></label>
<button type="submit">Change password</button></form>
<p id="status" role="status"></p>
<script>${SCRIPT}</script></body></html>
`;

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

let csp: Promise<string> | undefined;
/** Only this page's own script and style (by hash), requests to this origin, no framing, no forms elsewhere. */
function policy(): Promise<string> {
  csp ??=
    (async () =>
      `default-src 'none'; script-src 'sha256-${await sha256(SCRIPT)}'; style-src 'sha256-${await sha256(STYLE)}'; ` +
      "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")();
  return csp;
}

export const resetForm = declareRoute({
  method: "get",
  path: "/reset-password",
  operationId: "reset-password-form",
  tags: ["auth"],
  summary: "The page a password-reset link opens: a form that posts to POST /reset-password/",
  description: "Served when `RESET_URL` names no front end of its own. Open it as `?token=<the mailed token>`.",
  access: { kind: "public", reason: "the page a reset link opens; the token it posts is the credential" },
  responses: { 200: { description: "The form", content: { "text/html": { schema: { type: "string" } } } } },
});

export function resetFormRoutes() {
  const app = newRouter();
  app.openapi(resetForm, async (c) => {
    c.header("Content-Security-Policy", await policy());
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Content-Type-Options", "nosniff");
    return c.html(PAGE, 200);
  });
  return app;
}
