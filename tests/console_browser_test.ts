/**
 * Issue 13 in a real browser: the admin console signs in, creates a doctor with weekly hours in
 * one form (then seen in the directory API), refuses a form without its CSRF token (nothing
 * changes), shows a billing clerk payments but not lab results (403 page, no link), loses its
 * session when the API logs it out, and draws the dashboard's charts. Screenshots of the
 * dashboard, a user page and the audit viewer go to `.ci-out/`; the run time is printed.
 *
 * Needs Debian's Chromium (/usr/bin/chromium), driven by playwright-core; skipped where it is
 * not installed (the same rules are checked over HTTP in console_test.ts and console_matrix_test.ts).
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { eq } from "drizzle-orm";
import { type Browser, chromium, type Page } from "playwright-core";
import { appointments, payments, users } from "../db/schema.ts";
import { makeStaff, SESSION_COOKIE } from "./_console.ts";
import { type Actor, makeTestApp } from "./_fixtures.ts";

const CHROMIUM = "/usr/bin/chromium";
const installed = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
const OUT = new URL("../.ci-out/", import.meta.url);

async function signIn(page: Page, base: string, actor: Actor) {
  await page.goto(`${base}/admin/`);
  assert(page.url().includes("/admin/login"), `sent to sign in, at ${page.url()}`);
  await page.fill("input[name=login]", actor.username);
  await page.fill("input[name=password]", actor.password);
  await Promise.all([page.waitForURL(/\/admin\/?$/), page.click("button[type=submit]")]);
}

Deno.test({
  name: "the admin console in Chromium: sign-in, a doctor in one form, CSRF, a billing clerk, API logout, charts",
  ignore: !installed,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const started = performance.now();
    await Deno.mkdir(OUT, { recursive: true });
    const api = await makeTestApp();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req, info) => api.app.fetch(req, info),
    );
    const base = `http://localhost:${server.addr.port}`;
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
      });
      const admin = await api.makeAdmin();
      await seedCharts(api);
      await api.seal();
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      const foreign: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url());
      });

      await t.step("signing in opens the dashboard; its charts are drawn", async () => {
        await signIn(page, base, admin);
        assertEquals(await page.textContent("h1"), "Dashboard");
        assert(await page.locator("#chart-appointments svg rect").count() === 14, "14 days of appointments");
        assert(await page.locator("#chart-payments svg rect").count() === 30, "30 days of payments");
        assertStringIncludes(await page.textContent("#audit-chain") ?? "", "Verified up to row");
        const [cookie] = (await context.cookies()).filter((c) => c.name === SESSION_COOKIE);
        assert(cookie?.httpOnly && cookie.secure && cookie.sameSite === "Strict", "an HttpOnly Secure Strict cookie");
        await page.screenshot({ path: new URL("console-dashboard.png", OUT).pathname, fullPage: true });
      });

      let doctorId = 0;
      await t.step("a doctor with weekly hours in one form, then in the directory API", async () => {
        await page.click("a[href='/admin/users']");
        await page.click("a[href='/admin/users/new']");
        await page.fill("input[name=username]", "dr_browser");
        await page.fill("input[name=email]", "dr_browser@example.test");
        await page.fill("input[name=password]", "a browser-made password 7");
        await page.selectOption("select[name=role]", { label: "doctor" });
        await page.fill("input[name=first_name]", "Grace");
        await page.fill("input[name=last_name]", "Browser");
        await page.fill("input[name=specialization]", "Dermatology");
        await page.fill("input[name=hours_mon]", "09:00-12:00, 13:00-17:00");
        await page.fill("input[name=hours_wed]", "10:00-14:00");
        await Promise.all([page.waitForURL(/\/admin\/users\/\d+/), page.click("#create-user button[type=submit]")]);
        assertStringIncludes(await page.textContent("[role=status]") ?? "", "Created");
        doctorId = Number(page.url().match(/\/admin\/users\/(\d+)/)![1]);
        await page.screenshot({ path: new URL("console-user.png", OUT).pathname, fullPage: true });
        const { access } = await api.signIn(admin);
        const res = await api.request("GET", `/doctors/${doctorId}`, { token: access });
        assertEquals(res.status, 200);
        assertEquals(res.body.working_hours, {
          mon: [{ start: "09:00", end: "12:00" }, { start: "13:00", end: "17:00" }],
          wed: [{ start: "10:00", end: "14:00" }],
        });
        assertEquals(res.body.specialization, "Dermatology");
      });

      await t.step("a form posted without its CSRF token is refused and changes nothing", async () => {
        await page.goto(`${base}/admin/users/${doctorId}`);
        await page.locator("form[action$='/status'] input[name=_csrf]").evaluate((input) => input.remove());
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith("/status")),
          page.click("form[action$='/status'] button"),
        ]);
        assertEquals(response.status(), 403);
        assertStringIncludes(await page.textContent("[role=alert]") ?? "", "security token");
        const [row] = await api.db.select().from(users).where(eq(users.id, doctorId));
        assertEquals(row.accountStatus, "active");
      });

      await t.step("the audit viewer lists the console's records", async () => {
        await page.goto(`${base}/admin/audit?table=doctor_profiles`);
        assertStringIncludes(await page.textContent("table") ?? "", "console");
        await page.screenshot({ path: new URL("console-audit.png", OUT).pathname, fullPage: true });
      });

      await t.step("a billing clerk sees payments, not lab results (403 page, no link)", async () => {
        const clerk = await makeStaff(api, "billing_clerk", [
          "payments:read",
          "payments:read:any",
          "payments:refund",
          "admin:console",
        ]);
        const other = await browser!.newContext();
        const clerkPage = await other.newPage();
        await signIn(clerkPage, base, clerk);
        assertEquals(await clerkPage.locator("a[href='/admin/payments']").count(), 1);
        assertEquals(await clerkPage.locator("a[href='/admin/labresults']").count(), 0);
        assertEquals((await clerkPage.goto(`${base}/admin/payments`))?.status(), 200);
        const refused = await clerkPage.goto(`${base}/admin/labresults`);
        assertEquals(refused?.status(), 403);
        assertEquals(await clerkPage.textContent("h1"), "Not allowed");
        await other.close();
      });

      await t.step("logout through the API ends the console session", async () => {
        const [cookie] = (await context.cookies()).filter((c) => c.name === SESSION_COOKIE);
        const { access } = await api.signIn(admin);
        const out = await api.request("POST", "/logout/", { token: access, body: { refresh: cookie.value } });
        assertEquals(out.status, 204);
        await page.goto(`${base}/admin/users`);
        assert(page.url().includes("/admin/login"), `back at the sign-in page, at ${page.url()}`);
      });
      assertEquals(foreign, [], "nothing loaded from elsewhere");
    } finally {
      await browser?.close();
      await server.shutdown();
      await api.deps.background.settle();
      await api.database.dispose();
      console.log(`console browser test: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  },
});

/** A few appointments ahead and completed payments behind, so the charts have bars. */
async function seedCharts(api: Awaited<ReturnType<typeof makeTestApp>>) {
  const patient = await api.makePatient();
  const doctor = await api.makeDoctor();
  const now = api.clock.now();
  const ids: number[] = [];
  for (const [i, days] of [1, 1, 2, 4, 4, 4, 7, 9, 12].entries()) {
    const at = new Date(now.getTime() + days * 86_400_000 + i * 3_600_000);
    const [row] = await api.db.insert(appointments).values({
      patientId: patient.id,
      doctorId: doctor.id,
      appointmentDate: at,
      durationMinutes: 30,
      endsAt: new Date(at.getTime() + 30 * 60_000),
    }).returning({ id: appointments.id });
    ids.push(row.id);
  }
  for (const [i, days] of [0, 1, 1, 3, 6, 6, 6, 10, 15, 22, 28].entries()) {
    await api.db.insert(payments).values({
      patientId: patient.id,
      appointmentId: ids[i % ids.length],
      amount: 5000,
      currency: "USD",
      paymentMethod: "card",
      status: "completed",
      provider: "sandbox",
      providerReference: `seed-${i}`,
      createdAt: new Date(now.getTime() - days * 86_400_000),
    });
  }
}
