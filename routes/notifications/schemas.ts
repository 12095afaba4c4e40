import { z } from "@hono/zod-openapi";
import { createSelectSchema } from "drizzle-zod";
import { notifications } from "../../db/schema.ts";
import { NOTIFICATION_TYPES, type NotificationRow } from "../../services/notifications.ts";
import { pageQuery } from "../_list.ts";
import { idText, ownerField } from "../_schemas.ts";

const column = createSelectSchema(notifications).shape;
const STATUSES = ["unread", "read"] as const;

export const Notification = z.object({
  id: z.number().int(),
  user: z.number().int(),
  title: z.string(),
  message: z.string(),
  type: z.enum(NOTIFICATION_TYPES),
  status: z.enum(STATUSES),
  created_at: z.string(),
  read_at: z.string().nullable(),
}).openapi("Notification");

export const NotificationCreate = z.strictObject({
  user: ownerField,
  title: column.title.min(1),
  message: column.message.min(1),
  type: z.enum(NOTIFICATION_TYPES).default("general"),
}).openapi("NotificationCreate");

/** Only the status changes; the other fields may be echoed unchanged. */
export const NotificationChange = z.strictObject({ status: z.enum(STATUSES) });

export const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["id", "-id"]).default("-id"),
  status: z.enum(STATUSES).optional(),
  type: z.enum(NOTIFICATION_TYPES).optional(),
});

export const StreamQuery = z.object({
  last_event_id: idText.optional().openapi({ description: "As the Last-Event-ID header, for EventSource clients" }),
  access_token: z.string().max(4096).optional().openapi({
    description: "For EventSource clients, which cannot set headers",
  }),
});

export function notificationView(n: NotificationRow) {
  return {
    id: n.id,
    user: n.userId,
    title: n.title,
    message: n.message,
    type: n.type as typeof NOTIFICATION_TYPES[number],
    status: n.status as typeof STATUSES[number],
    created_at: n.createdAt.toISOString(),
    read_at: n.readAt?.toISOString() ?? null,
  };
}
