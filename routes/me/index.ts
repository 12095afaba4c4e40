import { z } from "@hono/zod-openapi";
import { contextOf } from "../../middleware/service_context.ts";
import { type AccessLogRow, myAccessLog, myAccount } from "../../services/me.ts";
import { page, pageOf, pageQuery, pageRequest } from "../_list.ts";
import { declareRoute, jsonResponse, newRouter, problems } from "../_route.ts";
import { doctorView, patientView } from "../_views.ts";
import { Me } from "../_schemas.ts";
import { preferenceRoutes } from "./preferences.ts";

const me = declareRoute({
  method: "get",
  path: "/me",
  operationId: "me",
  tags: ["auth"],
  summary: "The caller's user, roles, permissions and profile",
  access: { kind: "signed-in" },
  // The profile may be a patient's record (medical history): reading it is recorded like any read.
  audit: { action: "read", table: "users" },
  responses: { 200: jsonResponse("The caller", Me), ...problems(401) },
});

const AccessLogEntry = z.object({
  id: z.number().int(),
  when: z.string(),
  who: z.object({ id: z.number().int(), name: z.string().nullable(), role: z.string().nullable() }).nullable(),
  action: z.string(),
  part: z.string().nullable().openapi({ description: "The part of the record (table) that was read or changed" }),
  outcome: z.string(),
  by_you: z.boolean(),
}).openapi("AccessLogEntry");

const accessLog = declareRoute({
  method: "get",
  path: "/me/access-log",
  operationId: "me_access_log",
  tags: ["auth"],
  summary: "Who viewed or changed the caller's record and when, newest first",
  description:
    "The caller's own events are marked `by_you`. Staff-only details (IP address, user agent) are not shown.",
  access: { kind: "signed-in", policy: "auditlogs:about-me" },
  audit: { action: "list", table: "audit_logs" },
  request: { query: z.object(pageQuery) },
  responses: { 200: jsonResponse("A page of events", pageOf(AccessLogEntry)), ...problems(400, 401) },
});

export function meRoutes() {
  const app = newRouter();
  app.route("/", preferenceRoutes());

  app.openapi(me, async (c) => {
    const { user, roles, permissions, profile } = await myAccount(contextOf(c));
    const shown = !profile
      ? null
      : profile.kind === "patient"
      ? { kind: "patient", ...patientView(profile.row) }
      : { kind: "doctor", ...doctorView(profile.row) };
    const { id, username, email, phone, accountStatus } = user;
    return c.json(
      { id, username, email, phone, account_status: accountStatus, roles, permissions, profile: shown },
      200,
    );
  });

  app.openapi(accessLog, async (c) => {
    const slice = await myAccessLog(contextOf(c), pageRequest(c.req.valid("query"), "-event_timestamp"));
    const callerId = c.get("principal")!.userId;
    return c.json(page(c, slice, (r) => accessLogView(r, callerId)), 200);
  });

  return app;
}

function accessLogView(r: AccessLogRow, callerId: number) {
  return {
    id: r.id,
    when: r.eventTimestamp.toISOString(),
    who: r.userId === null ? null : { id: r.userId, name: r.name, role: r.role },
    action: r.action,
    part: r.targetTable,
    outcome: r.outcome,
    by_you: r.userId === callerId,
  };
}
