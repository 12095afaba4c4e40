import type { MiddlewareHandler } from "hono";
import type { AppEnv, RowScope } from "../app_env.ts";
import type { Access, AuditSpec } from "../routes/_route.ts";
import type { Permission } from "../services/permissions.ts";
import { recordAudit } from "../services/audit.ts";
import { principalOf } from "./authenticate.ts";
import { ProblemError } from "./problem.ts";
import { originOf } from "./request_context.ts";

/**
 * Refuses (403, audited as `access_denied`) a caller whose roles do not grant the permission,
 * and sets the row scope the data layer applies to every query of the request.
 */
export function requirePermission(
  access: Extract<Access, { kind: "permission" }>,
  audit?: AuditSpec,
): MiddlewareHandler<AppEnv> {
  return async function requirePermissionMiddleware(c, next) {
    const principal = principalOf(c);
    const holdsAny = access.any !== undefined && principal.permissions.has(access.any);
    if (!requiredPermissions(access).some((p) => principal.permissions.has(p)) && !holdsAny) {
      await recordAudit(c.get("deps").db, originOf(c), {
        userId: principal.userId,
        role: principal.roles.join(","),
        action: "access_denied",
        outcome: "denied",
        targetTable: audit?.table ?? null,
        targetId: c.req.param("id")?.slice(0, 100) ?? null,
        details: { method: c.req.method, route: c.req.routePath, permission: access.permission },
      }, c.get("deps").clock());
      throw new ProblemError(403, "forbidden", "You do not have permission to do this");
    }
    const scope: RowScope = holdsAny || access.scope === "all"
      ? { kind: "any" }
      : { kind: access.scope, userId: principal.userId };
    c.set("scope", scope);
    await next();
  };
}

/** The permissions of which the caller must hold at least one. */
export function requiredPermissions(access: Extract<Access, { kind: "permission" }>): Permission[] {
  return Array.isArray(access.permission) ? access.permission : [access.permission];
}
