/**
 * The admin console at `/admin/`: server-rendered pages (hono/jsx, no build step, no script)
 * over the same services and unit of work as the API. See README, "The admin console".
 */
import { Hono } from "hono";
import type { AppEnv } from "../../middleware/env.ts";
import { appointmentPages } from "./appointments.tsx";
import { auditPages } from "./audit.tsx";
import { dashboardPages } from "./dashboard.tsx";
import { doctorPages } from "./doctors.tsx";
import { consoleFrame } from "./frame.tsx";
import { integrationLogPages } from "./integration_logs.tsx";
import { labResultPages } from "./labresults.tsx";
import { paymentPages } from "./payments.tsx";
import { rolePages } from "./roles.tsx";
import { signInPages } from "./sign_in.tsx";
import { CONSOLE_CSS } from "./style.ts";
import { userPages } from "./users.tsx";
import { userFormPages } from "./user_form.tsx";

export { consolePages } from "./page.ts";

export function adminRoutes() {
  const app = new Hono<AppEnv>({ strict: false });
  app.use("/admin", consoleFrame());
  app.use("/admin/*", consoleFrame());
  app.get("/admin/static/console.css", (c) => {
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(CONSOLE_CSS, 200, { "content-type": "text/css; charset=utf-8" });
  });
  signInPages(app);
  dashboardPages(app);
  userFormPages(app);
  userPages(app);
  rolePages(app);
  doctorPages(app);
  appointmentPages(app);
  paymentPages(app);
  labResultPages(app);
  auditPages(app);
  integrationLogPages(app);
  return app;
}
