/**
 * The console's pages, declared like the API's routes: each names the access rule of the API
 * route it mirrors (checked by the same middleware, so the same callers are refused the same way)
 * and what it audits. The registry is what the console's authorization matrix walks.
 */
import type { Context, Handler, Hono, MiddlewareHandler } from "hono";
import { type Access, checkAccess, resolveAccess } from "../../middleware/access.ts";
import { auditEveryRequest } from "../../middleware/audit.ts";
import { consoleSession } from "../../middleware/console.ts";
import type { AppEnv } from "../../middleware/env.ts";
import { limitBody } from "../../middleware/limits.ts";
import { contextOf } from "../../middleware/service_context.ts";
import type { ServiceContext } from "../../services/context.ts";
import type { PageRequest } from "../../services/pagination.ts";
import type { Permission } from "../../services/permissions.ts";
import type { Principal } from "../../services/sessions.ts";
import type { AuditTarget } from "../../services/unit_of_work.ts";

export type PageAccess = Exclude<Access, { kind: "public" }>;

export interface ConsolePage {
  method: "get" | "post";
  path: string;
  /** The API route's rule; none: `admin:console` alone (the dashboard, sign-out). */
  access?: PageAccess;
  audit?: AuditTarget;
  /** The API route whose rule this is (`GET /payments`), for the test that compares them. */
  mirrors?: string;
}

/** Every page declared, for the tests. */
export const consolePages: ConsolePage[] = [];

/** Registers a page behind the console session, its access rule, its audit record and a body limit. */
export function declarePage(app: Hono<AppEnv>, page: ConsolePage, handler: Handler<AppEnv>) {
  consolePages.push(page);
  const middleware: MiddlewareHandler<AppEnv>[] = [];
  if (page.audit) middleware.push(auditEveryRequest(page.audit));
  middleware.push(limitBody(64 * 1024), consoleSession());
  if (page.access) middleware.push(checkAccess(page.access, page.audit));
  const on = app.on as (method: string, path: string, ...handlers: Handler<AppEnv>[]) => unknown;
  on.call(app, page.method.toUpperCase(), page.path, ...middleware as Handler<AppEnv>[], handler);
}

/** Whether the caller may open a page: links to pages they cannot open are not shown. */
export function mayOpen(principal: Principal, access: PageAccess | undefined): boolean {
  return !access || resolveAccess(access, principal.permissions).allowed;
}

/** Whether the caller holds a permission (for the parts of a page that need more than the page). */
export function holds(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has(permission);
}

/**
 * The service context of one step of a console action: a form that does several things (create
 * a user, assign a role, create the doctor profile) records each under its own target.
 */
export function stepContext(c: Context<AppEnv>, audit?: AuditTarget): ServiceContext {
  if (audit) c.set("audit", audit);
  return contextOf(c);
}

/** The signed-in console user and the form token (only behind `declarePage`). */
export function sessionOf(c: Context<AppEnv>): { principal: Principal; csrf: string } {
  return { principal: c.get("principal")!, csrf: c.get("csrf")! };
}

/** A positive integer query or form value, else undefined (a filter left empty or mistyped is no filter). */
export function positiveInt(value: unknown): number | undefined {
  return typeof value === "string" && /^[1-9][0-9]{0,9}$/.test(value) && Number(value) <= 2_147_483_647
    ? Number(value)
    : undefined;
}

/** A short text query value, else undefined. */
export function text(value: unknown, max = 200): string | undefined {
  return typeof value === "string" && value.trim() !== "" && value.length <= max ? value.trim() : undefined;
}

/** The keyset page a list asks for: 50 rows, the `cursor` of the previous page's links. */
export function pageOf(c: Context<AppEnv>, ordering = "id"): PageRequest {
  return { ordering, pageSize: 50, cursor: text(c.req.query("cursor"), 500) };
}
