import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { type Access, checkAccess, describeAccess } from "../middleware/access.ts";
import { auditEveryRequest } from "../middleware/audit.ts";
import { authenticate } from "../middleware/authenticate.ts";
import type { AppEnv } from "../middleware/env.ts";
import { idempotency } from "../middleware/idempotency.ts";
import { limitBody } from "../middleware/limits.ts";
import { validationHook } from "../middleware/problem.ts";
import type { AuditTarget } from "../services/unit_of_work.ts";

export type { Access };

export type DeclaredRoute<R extends RouteConfig = RouteConfig> = R & {
  access: Access;
  audit?: AuditTarget;
  /** Honours `Idempotency-Key` (POSTs that create something). */
  idempotent?: boolean;
};

/** Every declaration made through `declareRoute`, for the tests that check none is missing. */
export const declaredRoutes: DeclaredRoute[] = [];

type Declaration<R> = R & {
  access: Access;
  audit?: AuditTarget;
  bodyLimit?: number;
  idempotent?: boolean;
  /** Also take the access token as `?access_token=` (event streams). */
  queryToken?: boolean;
};

/**
 * The one way to declare a route: its contract and its access rule together, so no route can
 * exist without one. The access rule becomes middleware (authentication, permission, the bound
 * policy, body limit) and is published in the OpenAPI document as `x-access`, in words generated
 * from the policy that runs.
 */
export function declareRoute<const R extends Omit<RouteConfig, "middleware">>(config: Declaration<R>) {
  const { access, audit, bodyLimit, idempotent, queryToken, ...route } = config;
  const middleware: MiddlewareHandler<AppEnv>[] = [];
  if (audit) middleware.push(auditEveryRequest(audit));
  if (access.kind !== "public") middleware.push(authenticate({ queryToken }), checkAccess(access, audit));
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

/** What `declareUpdate` takes: one route's contract for both PUT and PATCH. */
type UpdateDeclaration<P extends string, Params extends z.ZodObject, S extends z.ZodObject> = {
  path: P;
  operationId: string;
  params: Params;
  /** The PUT body (its required fields required); PATCH takes the same fields, all optional. */
  body: S;
  bodyName: string;
  summary: string;
  description?: string;
  tags?: string[];
  responses: RouteConfig["responses"];
  access: Access;
  audit?: AuditTarget;
};

/** PUT and PATCH of one resource from one declaration. */
export function declareUpdate<const P extends string, Params extends z.ZodObject, S extends z.ZodObject>(
  config: UpdateDeclaration<P, Params, S>,
) {
  const { operationId, params, body, bodyName, ...rest } = config;
  const put = declareRoute({
    ...rest,
    method: "put",
    operationId: `${operationId}_update`,
    request: { params, ...jsonBody(body.openapi(`${bodyName}Update`)) },
  });
  const patch = declareRoute({
    ...rest,
    method: "patch",
    operationId: `${operationId}_partial_update`,
    request: { params, ...jsonBody(body.partial().openapi(`${bodyName}Patch`)) },
  });
  return [put, patch] as const;
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
  405: "Method not allowed",
  409: "Conflict",
  413: "Body too large",
  415: "Unsupported media type",
  422: "Validation failed",
  429: "Rate limited (see Retry-After)",
  503: "Unavailable (see Retry-After)",
};

export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { body: { required, content: { "application/json": { schema } } } };
}

export function jsonResponse<T extends z.ZodType>(description: string, schema: T) {
  return { description, content: { "application/json": { schema } } };
}
