import { accessLog } from "./middleware/access_log.ts";
import { corsPolicy } from "./middleware/cors.ts";
import { notFoundHandler, onError } from "./middleware/problem.ts";
import { requestContext } from "./middleware/request_context.ts";
import { securityHeaders } from "./middleware/security_headers.ts";
import { newRouter } from "./routes/_route.ts";
import { adminRoutes } from "./routes/admin/index.ts";
import { appointmentRoutes } from "./routes/appointments/index.ts";
import { auditLogRoutes } from "./routes/auditlogs/index.ts";
import { authRoutes } from "./routes/auth/index.ts";
import { docsRoutes } from "./routes/docs.ts";
import { doctorRoutes } from "./routes/doctors/index.ts";
import { healthRoutes } from "./routes/health.ts";
import { integrationLogRoutes } from "./routes/integrationlogs/index.ts";
import { jwksRoutes } from "./routes/jwks.ts";
import { labResultRoutes } from "./routes/labresults/index.ts";
import { meRoutes } from "./routes/me/index.ts";
import { messageRoutes } from "./routes/messages/index.ts";
import { notificationRoutes } from "./routes/notifications/index.ts";
import { patientRoutes } from "./routes/patients/index.ts";
import { paymentRoutes } from "./routes/payments/index.ts";
import { prescriptionRoutes } from "./routes/prescriptions/index.ts";
import { roleRoutes } from "./routes/roles/index.ts";
import { userRoleRoutes } from "./routes/userroles/index.ts";
import { userRoutes } from "./routes/users/index.ts";
import type { AppDeps } from "./services/deps.ts";

export type { AppDeps };

/** Builds the API on the given dependencies; tests call it with their own database and clock. */
export function createApp(deps: AppDeps) {
  const app = newRouter();
  app.use("*", securityHeaders());
  app.use("*", corsPolicy(deps.config.CORS_ORIGINS));
  app.use("*", requestContext(deps));
  app.use("*", accessLog());
  app.onError(onError);
  app.notFound(notFoundHandler(() => app.routes));

  app.route("/", healthRoutes());
  app.route("/", jwksRoutes());
  app.route("/", authRoutes());
  app.route("/", meRoutes());
  app.route("/", userRoutes());
  app.route("/", roleRoutes());
  app.route("/", userRoleRoutes());
  app.route("/", patientRoutes());
  app.route("/", doctorRoutes());
  app.route("/", appointmentRoutes());
  app.route("/", prescriptionRoutes());
  app.route("/", labResultRoutes());
  app.route("/", notificationRoutes());
  app.route("/", messageRoutes());
  app.route("/", paymentRoutes());
  app.route("/", integrationLogRoutes());
  app.route("/", auditLogRoutes());
  app.route("/", docsRoutes(app));
  app.route("/", adminRoutes());

  // The sandbox provider delivers its signed events through the app, as a provider's request arrives.
  deps.paymentProvider.connect?.((request) => Promise.resolve(app.fetch(request)));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
