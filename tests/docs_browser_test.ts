/**
 * Issue 9, point 26, in a real browser: the docs page renders offline from the app's own files,
 * the sign-in form fills the bearer token, "Try it out" on GET /me/ sends it (200, the caller's
 * own account), a wrong password shows the API's answer, and "Sign out" ends the session; no
 * Content-Security-Policy violation and no request leaves the server's origin. (The page's CSP
 * refuses eval, so the test waits on selectors, never on evaluated strings.)
 *
 * Needs Debian's Chromium (`apt-get install -y chromium`, /usr/bin/chromium), driven by
 * playwright-core; the test is skipped where it is not installed (the HTTP-level checks of the
 * page are in openapi_test.ts).
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { chromium } from "playwright-core";
import { startServer } from "./_server.ts";

const CHROMIUM = "/usr/bin/chromium";
const installed = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

const PASSWORD = "docs page: sign me in";

Deno.test({
  name: "the docs page signs in with a username and password, and Try it out sends the token (Chromium)",
  ignore: !installed,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startServer({ DATABASE_URL: "memory://", LOG_LEVEL: "warn", MAIL_TRANSPORT: "log" });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const registered = await fetch(`${server.url}/register/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "docs_reader", email: "docs_reader@example.test", password: PASSWORD }),
      });
      assertEquals(registered.status, 201);
      await registered.body?.cancel();

      const page = await browser.newPage();
      const violations: string[] = [];
      const foreign: string[] = [];
      const meRequests: (string | undefined)[] = [];
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      page.on("request", (r) => {
        const url = new URL(r.url());
        if (url.origin !== server.url && url.protocol !== "data:") foreign.push(r.url());
        if (url.pathname === "/me/" || url.pathname === "/me") meRequests.push(r.headers().authorization);
      });
      await page.goto(`${server.url}/docs`);
      await page.waitForSelector(".swagger-ui .info .title", { timeout: 30_000 });
      assertStringIncludes(await page.textContent(".swagger-ui .info .title") ?? "", "Patient Portal API");

      const status = page.locator("#signin-status");
      await t.step("a wrong password shows the API's answer", async () => {
        await page.fill("#signin input[name=username]", "docs_reader");
        await page.fill("#signin input[name=password]", "not the password");
        await page.click("#signin button[type=submit]");
        await page.locator('#signin-status[data-state="error"]').waitFor();
        assertStringIncludes(await status.textContent() ?? "", "credentials are invalid");
      });

      /** Expands GET /me/, presses Try it out and Execute; the status code and the body shown. */
      const tryMe = async () => {
        const block = page.locator("#operations-auth-me");
        if (!(await block.locator(".try-out__btn").isVisible().catch(() => false))) {
          await block.locator(".opblock-summary").first().click();
        }
        const tryOut = block.locator(".try-out__btn");
        if ((await tryOut.textContent())?.includes("Try it out")) await tryOut.click();
        await block.locator("button.execute").click();
        const cell = block.locator(".live-responses-table tbody .response-col_status").first();
        await cell.waitFor({ timeout: 15_000 });
        const code = (await cell.textContent())?.trim().slice(0, 3);
        const shown = await block.locator(".live-responses-table tbody .response-col_description").first()
          .textContent({ timeout: 5000 });
        await block.locator("button.btn-clear").click({ timeout: 1000 }).catch(() => {});
        return { code, shown: shown ?? "" };
      };

      await t.step(
        "signing in fills the bearer token: Try it out on GET /me/ answers 200 for this account",
        async () => {
          await page.fill("#signin input[name=username]", "docs_reader");
          await page.fill("#signin input[name=password]", PASSWORD);
          await page.click("#signin button[type=submit]");
          await page.locator('#signin-status[data-state="ok"]').waitFor();
          assertStringIncludes(await status.textContent() ?? "", "Signed in as docs_reader");
          assertEquals(await page.inputValue("#signin input[name=password]"), "", "the password is cleared");
          const me = await tryMe();
          assertEquals(me.code, "200");
          assertStringIncludes(me.shown, '"docs_reader"', "the caller's own account");
          assert(meRequests.at(-1)?.startsWith("Bearer ey"), "the request carried the token");
          const stored = await page.evaluate(() =>
            JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })
          );
          assert(!stored.includes("ey"), "the token is not stored by the page");
        },
      );

      await t.step("signing out ends the session: GET /me/ is 401 again", async () => {
        await page.click("#signout");
        await page.locator("#signin-status", { hasText: "Signed out" }).waitFor();
        assertEquals((await tryMe()).code, "401");
      });

      assertEquals(violations, [], "no CSP violation");
      assertEquals(foreign, [], "nothing loaded from elsewhere");
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});
