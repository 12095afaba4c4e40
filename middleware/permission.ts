import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { recordAudit } from "../services/audit.ts";
import type { Permission } from "../services/permissions.ts";
import { principalOf } from "./authenticate.ts";
import { originOf } from "./request_context.ts";
import { ProblemError } from "./problem.ts";

/** Refuses (403, audited as `access_denied`) a caller whose roles do not grant the permission. */
export function requirePermission(permission: Permission): MiddlewareHandler<AppEnv> {
  return async function requirePermissionMiddleware(c, next) {
    const principal = principalOf(c);
    if (!principal.permissions.has(permission)) {
      await recordAudit(c.get("deps").db, originOf(c), {
        userId: principal.userId,
        role: principal.roles.join(","),
        action: "access_denied",
        outcome: "denied",
        details: { method: c.req.method, route: c.req.routePath, permission },
      });
      throw new ProblemError(403, "forbidden", "You do not have permission to do this");
    }
    await next();
  };
}
