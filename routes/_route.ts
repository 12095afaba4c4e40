import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { authenticate } from "../middleware/authenticate.ts";
import { limitBody } from "../middleware/limits.ts";
import { validationHook } from "../middleware/problem.ts";
import { requirePermission } from "../middleware/permission.ts";
import type { Permission } from "../services/permissions.ts";

/**
 * Who may call a route. `public`: anyone (only sign-in, health and docs routes);
 * `signed-in`: any authenticated user, rows limited by the handler to the caller's own;
 * `permission`: the caller's roles must grant the code.
 */
export type Access =
  | { kind: "public"; reason: string }
  | { kind: "signed-in" }
  | { kind: "permission"; permission: Permission };

export type DeclaredRoute<R extends RouteConfig = RouteConfig> = R & { access: Access };

/** Every declaration made through `declareRoute`, for the tests that check none is missing. */
export const declaredRoutes: DeclaredRoute[] = [];

/**
 * The one way to declare a route: its contract and its access rule together, so no route can
 * exist without one. The access rule becomes middleware (authentication, permission, body
 * limit) and is published in the OpenAPI document as `x-access`.
 */
export function declareRoute<const R extends Omit<RouteConfig, "middleware">>(
  config: R & { access: Access; bodyLimit?: number },
) {
  const { access, bodyLimit, ...route } = config;
  const middleware: MiddlewareHandler<AppEnv>[] = [];
  if (access.kind !== "public") middleware.push(authenticate());
  if (access.kind === "permission") middleware.push(requirePermission(access.permission));
  middleware.push(limitBody(bodyLimit));
  const declared = createRoute(
    {
      ...route,
      middleware,
      security: access.kind === "public" ? [] : [{ bearerAuth: [] }],
      "x-access": access,
    } as unknown as R & { middleware: MiddlewareHandler<AppEnv>[] },
  );
  declaredRoutes.push({ ...declared, access } as DeclaredRoute);
  return declared;
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
