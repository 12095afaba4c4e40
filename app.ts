import type { AppDeps } from "./app_env.ts";
import { accessLog } from "./middleware/access_log.ts";
import { notFoundHandler, onError } from "./middleware/problem.ts";
import { requestContext } from "./middleware/request_context.ts";
import { newRouter } from "./routes/_route.ts";
import { authRoutes } from "./routes/auth.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me.ts";
import { passwordResetRoutes } from "./routes/password_reset.ts";
import { patientRoutes } from "./routes/patients.ts";
import { appointmentRoutes } from "./routes/appointments.ts";
import { auditLogRoutes } from "./routes/audit_logs.ts";
import { docsRoutes } from "./routes/docs.ts";
import { doctorRoutes } from "./routes/doctors.ts";
import { labResultRoutes } from "./routes/lab_results.ts";
import { prescriptionRoutes } from "./routes/prescriptions.ts";
import { roleRoutes } from "./routes/roles.ts";
import { userRoleRoutes } from "./routes/user_roles.ts";
import { userRoutes } from "./routes/users.ts";

export type { AppDeps } from "./app_env.ts";

/** Builds the API on the given dependencies; tests call it with their own database and clock. */
export function createApp(deps: AppDeps) {
  const app = newRouter();
  app.use("*", requestContext(deps));
  app.use("*", accessLog());
  app.onError(onError);
  app.notFound(notFoundHandler(() => app.routes));

  app.route("/", healthRoutes());
  app.route("/", authRoutes());
  app.route("/", passwordResetRoutes());
  app.route("/", meRoutes());
  app.route("/", userRoutes());
  app.route("/", roleRoutes());
  app.route("/", userRoleRoutes());
  app.route("/", patientRoutes());
  app.route("/", doctorRoutes());
  app.route("/", appointmentRoutes());
  app.route("/", prescriptionRoutes());
  app.route("/", labResultRoutes());
  app.route("/", auditLogRoutes());
  app.route("/", docsRoutes(app));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
