import type { MiddlewareHandler } from "hono";
import { parseRowId } from "../services/ids.ts";
import type { AuditTarget } from "../services/unit_of_work.ts";
import type { AppEnv } from "./env.ts";
import { contextOf } from "./service_context.ts";

/**
 * Every request to a route that declares what it audits leaves exactly one record. Set before
 * authentication, so the route's record is known to every step; after the request, a refusal
 * nothing recorded (no token, a body or id the validator refused, a malformed or oversized body)
 * is recorded as `denied` with the problem's type as its reason and the path id as parsed (or
 * none). A request whose unit of work recorded it is left alone, so nothing is recorded twice.
 */
export function auditEveryRequest(audit: AuditTarget): MiddlewareHandler<AppEnv> {
  return async function auditEveryRequestMiddleware(c, next) {
    c.set("audit", audit);
    await next();
    const status = c.res.status;
    // A success is recorded by its unit of work; a 503 means the database or the trail is away.
    if (c.get("audited") || status < 400 || status === 503) return;
    await contextOf(c).uow.record({
      action: audit.action,
      outcome: status >= 500 ? "error" : "denied",
      targetTable: audit.table,
      targetId: parseRowId(c.req.param("id")) ?? null,
      details: { reason: c.get("problem") ?? `status-${status}`, status },
    });
  };
}
