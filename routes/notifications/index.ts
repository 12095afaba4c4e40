/** Notifications: who may do what (one screen) and the handlers; the live stream in stream.ts. */
import { z } from "@hono/zod-openapi";
import { contextOf } from "../../middleware/service_context.ts";
import * as notifications from "../../services/notifications.ts";
import { page, pageRequest } from "../_list.ts";
import { declareRoute, declareUpdate, jsonBody, jsonResponse, newRouter, problems } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { ListQuery, Notification, NotificationChange, NotificationCreate, notificationView } from "./schemas.ts";
import { streamRoutes } from "./stream.ts";

/** Each user's own, nobody else's: no permission reaches another user's notifications. */
const own = { kind: "signed-in", policy: "notifications:self" } as const;
const TABLE = "notifications";
const tags = ["notifications"];

const list = declareRoute({
  method: "get",
  path: "/notifications",
  operationId: "notifications_list",
  tags,
  summary: "The caller's notifications, newest first, with their unread count",
  access: own,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: {
    200: jsonResponse(
      "A page of notifications",
      z.object({
        next: z.string().nullable(),
        previous: z.string().nullable(),
        unread: z.number().int(),
        results: z.array(Notification),
      }),
    ),
    ...problems(400, 401),
  },
});

const unread = declareRoute({
  method: "get",
  path: "/notifications/unread-count",
  operationId: "notifications_unread_count",
  tags,
  summary: "How many of the caller's notifications are unread",
  access: own,
  audit: { action: "read", table: TABLE },
  responses: { 200: jsonResponse("The count", z.object({ unread: z.number().int() })), ...problems(401) },
});

const get = declareRoute({
  method: "get",
  path: "/notifications/{id}",
  operationId: "notifications_read",
  tags,
  summary: "One of the caller's notifications",
  access: own,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The notification", Notification), ...problems(401, 404) },
});

const [put, patch] = declareUpdate({
  path: "/notifications/{id}",
  operationId: "notifications",
  tags,
  summary: "Mark one of the caller's notifications read or unread (only `status` changes)",
  access: own,
  audit: { action: "update", table: TABLE },
  params: IdParam,
  body: NotificationChange,
  bodyName: "Notification",
  responses: { 200: jsonResponse("The notification", Notification), ...problems(400, 401, 404, 413, 415, 422) },
});

const create = declareRoute({
  method: "post",
  path: "/notifications",
  operationId: "notifications_create",
  tags,
  summary: "Write a notification to a user (administrators); no health details belong in it",
  access: { kind: "permission", permission: "notifications:write:any", policy: "all" },
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(NotificationCreate),
  responses: { 201: jsonResponse("The notification", Notification), ...problems(400, 401, 403, 413, 415, 422) },
});

export function notificationRoutes() {
  const app = newRouter();
  // Fixed paths before /notifications/{id}, which would otherwise take them for an id.
  app.route("/", streamRoutes());
  app.openapi(list, async (c) => {
    const { status, type, ...q } = c.req.valid("query");
    const slice = await notifications.listNotifications(contextOf(c), { status, type }, pageRequest(q, "-id"));
    return c.json({ ...page(c, slice, notificationView), unread: slice.unread }, 200);
  });
  app.openapi(unread, async (c) => c.json({ unread: await notifications.unreadCount(contextOf(c)) }, 200));
  app.openapi(
    get,
    async (c) =>
      c.json(notificationView(await notifications.readNotification(contextOf(c), c.req.valid("param").id)), 200),
  );
  for (const route of [put, patch]) {
    app.openapi(route, async (c) => {
      const status = c.req.valid("json").status ?? "read";
      return c.json(
        notificationView(await notifications.markNotification(contextOf(c), c.req.valid("param").id, status)),
        200,
      );
    });
  }
  app.openapi(create, async (c) => {
    const row = await notifications.sendNotification(contextOf(c, { respond: notificationView }), c.req.valid("json"));
    return c.json(notificationView(row), 201);
  });
  return app;
}
