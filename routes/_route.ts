import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { authenticate } from "../middleware/authenticate.ts";
import { idempotency } from "../middleware/idempotency.ts";
import { limitBody } from "../middleware/limits.ts";
import { validationHook } from "../middleware/problem.ts";
import { requiredPermissions, requirePermission } from "../middleware/permission.ts";
import type { AuditAction } from "../services/audit.ts";
import type { Permission } from "../services/permissions.ts";

/**
 * Who may call a route and which rows they reach.
 * - `public`: anyone (only sign-in, health and docs routes);
 * - `signed-in`: any authenticated user, acting on their own account only;
 * - `permission`: the caller's roles must grant `permission`; rows are limited by `scope`:
 *   `patient` (health data: the caller's own, or of patients under their care), `self` (rows that
 *   belong to the caller) or `all`; holding `any` lifts the limit to every row.
 */
export type Access =
  | { kind: "public"; reason: string }
  | { kind: "signed-in" }
  | { kind: "permission"; permission: Permission | Permission[]; scope: "patient" | "self" | "all"; any?: Permission };

/** What a route records in the audit trail: the action and the table it reads or writes. */
export interface AuditSpec {
  action: AuditAction;
  table: string;
}

export type DeclaredRoute<R extends RouteConfig = RouteConfig> = R & {
  access: Access;
  audit?: AuditSpec;
  /** Honours `Idempotency-Key` (POSTs that create something). */
  idempotent?: boolean;
};

/** Every declaration made through `declareRoute`, for the tests that check none is missing. */
export const declaredRoutes: DeclaredRoute[] = [];

/**
 * The one way to declare a route: its contract and its access rule together, so no route can
 * exist without one. The access rule becomes middleware (authentication, permission, body
 * limit) and is published in the OpenAPI document as `x-access`.
 */
export function declareRoute<const R extends Omit<RouteConfig, "middleware">>(
  config: R & { access: Access; audit?: AuditSpec; bodyLimit?: number; idempotent?: boolean },
) {
  const { access, audit, bodyLimit, idempotent, ...route } = config;
  const middleware: MiddlewareHandler<AppEnv>[] = [];
  if (access.kind !== "public") middleware.push(authenticate());
  if (access.kind === "permission") middleware.push(requirePermission(access, audit));
  if (audit) middleware.push(setAuditSpec(audit));
  middleware.push(limitBody(bodyLimit));
  if (idempotent) middleware.push(idempotency());
  const declared = createRoute(
    {
      ...route,
      middleware,
      security: access.kind === "public" ? [] : [{ bearerAuth: [] }],
      description: [route.description, describeAccess(access)].filter(Boolean).join("\n\n"),
      "x-access": access,
      ...(audit ? { "x-audit": audit } : {}),
    } as unknown as R & { middleware: MiddlewareHandler<AppEnv>[] },
  );
  declaredRoutes.push({ ...declared, access, audit, idempotent } as DeclaredRoute);
  return declared;
}

function setAuditSpec(audit: AuditSpec): MiddlewareHandler<AppEnv> {
  return async function setAuditSpecMiddleware(c, next) {
    c.set("auditSpec", audit);
    await next();
  };
}

/** Who may call the operation, in words, for the OpenAPI document. */
function describeAccess(access: Access): string {
  switch (access.kind) {
    case "public":
      return `**Access:** public (${access.reason}).`;
    case "signed-in":
      return "**Access:** any signed-in user; rows beyond their own only where the summary says so.";
    case "permission": {
      const rows = {
        patient: "their own records, or those of patients under their care",
        self: "rows that belong to them",
        all: "every row",
      }[access.scope];
      const any = access.any ? `; with \`${access.any}\`, every row` : "";
      const codes = requiredPermissions(access).map((p) => `\`${p}\``).join(" or ");
      return `**Access:** permission ${codes}; the caller reaches ${rows}${any}.`;
    }
  }
}

/** A router for one resource; it shares the app's validation hook and trailing-slash rule. */
export function newRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ strict: false, defaultHook: validationHook });
}

/** The problem+json shape, for response documentation. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  request_id: z.string().nullable(),
  errors: z.array(z.object({ pointer: z.string().optional(), parameter: z.string().optional(), detail: z.string() }))
    .optional(),
}).openapi("Problem");

export function problems(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [
    status,
    {
      description: PROBLEM_DESCRIPTIONS[status] ?? "Error",
      content: { "application/problem+json": { schema: ProblemSchema } },
    },
  ]));
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request",
  401: "Not authenticated",
  403: "Not allowed",
  404: "Not found, or outside the caller's scope",
  409: "Conflict",
  413: "Body too large",
  415: "Unsupported media type",
  422: "Validation failed",
  429: "Rate limited (see Retry-After)",
};

export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { body: { required, content: { "application/json": { schema } } } };
}

export function jsonResponse<T extends z.ZodType>(description: string, schema: T) {
  return { description, content: { "application/json": { schema } } };
}
