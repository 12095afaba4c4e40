import { z } from "@hono/zod-openapi";
import { publicUrl } from "../config.ts";
import { type AccessLogRow, AUDIT_LOG_ID, AUDIT_LOG_ORDERINGS, listAccessLog } from "../db/audit_logs.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { notFound } from "../middleware/problem.ts";
import { audited } from "../services/audited.ts";
import { keyset, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { getUser, profileOf, rolesAndPermissions } from "../services/users.ts";
import { doctorView } from "./doctors.ts";
import { patientView } from "./patients.ts";
import { declareRoute, jsonResponse, newRouter, problems } from "./_route.ts";
import { pageOf } from "./_schemas.ts";
import { Me } from "./auth_schemas.ts";

const me = declareRoute({
  method: "get",
  path: "/me",
  operationId: "me",
  tags: ["auth"],
  summary: "The caller's user, roles, permissions and profile",
  access: { kind: "signed-in" },
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
  description: "Events whose patients include the caller, the caller's own marked `by_you`. " +
    "Staff-only details (IP address, user agent) are not shown.",
  access: { kind: "signed-in" },
  audit: { action: "list", table: "audit_logs" },
  request: { query: z.object(pageQuery) },
  responses: { 200: jsonResponse("A page of events", pageOf(AccessLogEntry)), ...problems(400, 401) },
});

const NEWEST_FIRST = "-event_timestamp";

export function meRoutes() {
  const app = newRouter();

  app.openapi(me, async (c) => {
    const { db } = c.get("deps");
    const { userId } = principalOf(c);
    const user = await getUser(db, userId);
    if (!user) throw notFound();
    const { roles, permissions } = await rolesAndPermissions(db, userId);
    const found = await profileOf(db, userId);
    const profile = !found
      ? null
      : found.kind === "patient"
      ? { kind: "patient", ...patientView(found.row) }
      : { kind: "doctor", ...doctorView(found.row) };
    return c.json({
      id: user.id,
      username: user.username,
      email: user.email,
      phone: user.phone,
      account_status: user.accountStatus,
      roles,
      permissions,
      profile,
    }, 200);
  });

  app.openapi(accessLog, async (c) => {
    const q = c.req.valid("query");
    const { userId } = principalOf(c);
    const page = keyset({
      ordering: NEWEST_FIRST,
      columns: AUDIT_LOG_ORDERINGS,
      id: AUDIT_LOG_ID,
      pageSize: q.page_size,
      cursor: q.cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const body = await audited(c, async (tx) => {
      const rows = await listAccessLog(tx, userId, page);
      const result = page.page(rows, (r) => ({ value: r.eventAt, id: r.id }), (r) => accessLogView(r, userId));
      return { result, rowIds: result.results.map((r) => r.id), patientIds: [userId] };
    });
    return c.json(body, 200);
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
