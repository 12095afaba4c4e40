/**
 * The docs page: Swagger UI from `swagger-ui-dist` and a sign-in form that fills the bearer token.
 * Scripts are served files (the page's CSP refuses inline scripts); the form cannot be submitted
 * without its script (`form-action 'none'`), so a password never travels in a URL.
 */

/** Starts Swagger UI on the app's own document. */
export const INIT_JS = `window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout" });
});
`;

/**
 * Username (or e-mail) and password → POST /token/ → the access token into Swagger UI's
 * `bearerAuth`, kept in the page only (never in storage); "Sign out" ends the session.
 */
export const SIGNIN_JS = `(() => {
  const form = document.getElementById("signin");
  const status = document.getElementById("signin-status");
  const signOut = document.getElementById("signout");
  let session = null;
  const say = (text, state) => { status.textContent = text; status.dataset.state = state; };
  const expiry = (jwt) => {
    try {
      const claims = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      return new Date(claims.exp * 1000).toLocaleTimeString();
    } catch {
      return "it expires";
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = form.elements.username.value.trim();
    say("Signing in…", "busy");
    let res;
    try {
      res = await fetch("/token/", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ username, password: form.elements.password.value }),
      });
    } catch {
      say("The API did not answer", "error");
      return;
    }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      say(body.detail || "Sign-in failed (" + res.status + ")", "error");
      return;
    }
    session = { access: body.access, refresh: body.refresh };
    window.ui.preauthorizeApiKey("bearerAuth", body.access);
    form.elements.password.value = "";
    signOut.hidden = false;
    say("Signed in as " + username + ": Try it out sends your token (until " + expiry(body.access) + ")", "ok");
  });
  signOut.addEventListener("click", async () => {
    if (session) {
      await fetch("/logout/", {
        method: "POST",
        headers: { authorization: "Bearer " + session.access, "content-type": "application/json" },
        body: JSON.stringify({ refresh: session.refresh }),
      }).catch(() => {});
    }
    session = null;
    window.ui.authActions.logout(["bearerAuth"]);
    signOut.hidden = true;
    say("Signed out", "ok");
  });
})();
`;

/** The page; `v` (the swagger-ui-dist version) makes the long-cached file URLs change with an upgrade. */
export const page = (v: string) =>
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Patient Portal API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css?v=${v}">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png?v=${v}">
</head><body>
<form id="signin" method="post" autocomplete="on"
  style="display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center;padding:.75em 1.25em;font-family:sans-serif;border-bottom:1px solid #ddd">
<strong>Sign in to try the API</strong>
<label>Username or e-mail <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
<button type="button" id="signout" hidden>Sign out</button>
<output id="signin-status" aria-live="polite"></output>
</form>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js?v=${v}"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js?v=${v}"></script>
<script src="/docs/assets/init.js?v=${v}"></script>
<script src="/docs/assets/signin.js?v=${v}"></script>
</body></html>
`;
