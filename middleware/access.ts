import type { MiddlewareHandler } from "hono";
import { POLICIES, type PolicyName } from "../db/policies.ts";
import { bindScope } from "../db/scope.ts";
import { Forbidden } from "../errors.ts";
import { parseRowId } from "../services/ids.ts";
import type { Permission } from "../services/permissions.ts";
import type { AuditTarget } from "../services/unit_of_work.ts";
import { principalOf } from "./authenticate.ts";
import type { AppEnv } from "./env.ts";
import { contextOf } from "./service_context.ts";

/**
 * Who may call a route and which rows they reach.
 * - `public`: anyone (only sign-in, health and docs routes);
 * - `signed-in`: any authenticated user; rows limited by `policy` when it has one;
 * - `permission`: the caller's roles must grant one of `permission`; rows limited by `policy`.
 * Holding `any` lifts the policy to every row.
 */
export type Access =
  | { kind: "public"; reason: string }
  | { kind: "signed-in"; policy?: PolicyName; any?: Permission | readonly Permission[] }
  | {
    kind: "permission";
    permission: Permission | Permission[];
    policy: PolicyName;
    any?: Permission | readonly Permission[];
  };

/** The permissions of which the caller must hold at least one. */
export function requiredPermissions(access: Extract<Access, { kind: "permission" }>): Permission[] {
  return Array.isArray(access.permission) ? access.permission : [access.permission];
}

/** The permissions any one of which lifts the route's row policy (none: it always applies). */
export function anyPermissions(access: Exclude<Access, { kind: "public" }>): Permission[] {
  if (access.any === undefined) return [];
  return typeof access.any === "string" ? [access.any] : [...access.any];
}

/**
 * What a caller holding `permissions` may do on a route: call it at all, and reach every row
 * (the `any` permission, or a route without a row policy) or only the policy's rows.
 */
export function resolveAccess(
  access: Exclude<Access, { kind: "public" }>,
  permissions: ReadonlySet<Permission>,
): { allowed: boolean; unrestricted: boolean } {
  const holdsAny = anyPermissions(access).some((p) => permissions.has(p));
  const holdsOne = access.kind === "signed-in" || requiredPermissions(access).some((p) => permissions.has(p));
  return { allowed: holdsAny || holdsOne, unrestricted: holdsAny || access.policy === "all" };
}

/**
 * Refuses (403, audited as `access_denied`) a caller whose roles grant none of the route's
 * permissions, and binds the route's policy to the caller: the scope every query of the request
 * goes through.
 */
export function checkAccess(
  access: Exclude<Access, { kind: "public" }>,
  audit?: AuditTarget,
): MiddlewareHandler<AppEnv> {
  return async function checkAccessMiddleware(c, next) {
    const principal = principalOf(c);
    const { allowed, unrestricted } = resolveAccess(access, principal.permissions);
    if (!allowed) {
      const refusal = new Forbidden();
      await contextOf(c).uow.record({
        action: "access_denied",
        outcome: "denied",
        targetTable: audit?.table ?? null,
        targetId: parseRowId(c.req.param("id")) ?? null,
        details: { permission: access.kind === "permission" ? access.permission : null },
      });
      throw refusal;
    }
    if (access.policy) {
      const deps = c.get("deps");
      const requestId = c.get("requestId");
      const probe = deps.onPolicyApplied && ((policy: PolicyName) => deps.onPolicyApplied!(requestId, policy));
      c.set("scope", bindScope(access.policy, principal.userId, unrestricted, probe));
    }
    await next();
  };
}

/** Who may call the operation, in words, for the OpenAPI document: generated from the policy that runs. */
export function describeAccess(access: Access): string {
  if (access.kind === "public") return `**Access:** public (${access.reason}).`;
  const rows = access.policy ? POLICIES[access.policy].describe : "what the summary says";
  const lifting = anyPermissions(access).map((p) => `\`${p}\``).join(" or ");
  const any = lifting ? `; with ${lifting}, every row` : "";
  if (access.kind === "signed-in") return `**Access:** any signed-in user; the caller reaches ${rows}${any}.`;
  const codes = requiredPermissions(access).map((p) => `\`${p}\``).join(" or ");
  return `**Access:** permission ${codes}; the caller reaches ${rows}${any}.`;
}
