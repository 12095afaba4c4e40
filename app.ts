import type { AppDeps } from "./app_env.ts";
import { accessLog } from "./middleware/access_log.ts";
import { notFoundHandler, onError } from "./middleware/problem.ts";
import { requestContext } from "./middleware/request_context.ts";
import { newRouter } from "./routes/_route.ts";
import { authRoutes } from "./routes/auth.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me.ts";
import { passwordResetRoutes } from "./routes/password_reset.ts";

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

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
