/** `GET/PUT /me/notification-preferences/`: per category, whether it also goes by e-mail; quiet hours. */
import { z } from "@hono/zod-openapi";
import { contextOf } from "../../middleware/service_context.ts";
import { NOTIFICATION_TYPES } from "../../services/notifications.ts";
import { myPreferences, setMyPreferences } from "../../services/preferences.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "../_route.ts";
import { TimeZone } from "../_schemas.ts";

const HH_MM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const Channel = z.strictObject({
  in_app: z.literal(true).optional().openapi({ description: "Always on: every notification shows in the portal" }),
  email: z.boolean(),
});
const Preferences = z.strictObject({
  channels: z.strictObject(Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, Channel.optional()]))),
  quiet_hours: z.strictObject({ start: z.string().regex(HH_MM), end: z.string().regex(HH_MM) }).nullable()
    .openapi({ description: "No e-mail between these local times (it goes out when they end)" }),
  time_zone: TimeZone,
}).openapi("NotificationPreferences");

const access = { kind: "signed-in", policy: "preferences:self" } as const;
const audit = { table: "notification_preferences" } as const;

const get = declareRoute({
  method: "get",
  path: "/me/notification-preferences",
  operationId: "me_notification_preferences",
  tags: ["notifications"],
  summary: "The caller's notification preferences",
  access,
  audit: { ...audit, action: "read" },
  responses: { 200: jsonResponse("The preferences", Preferences), ...problems(401) },
});

const put = declareRoute({
  method: "put",
  path: "/me/notification-preferences",
  operationId: "me_notification_preferences_update",
  tags: ["notifications"],
  summary: "Replace the caller's notification preferences",
  access,
  audit: { ...audit, action: "update" },
  request: jsonBody(Preferences),
  responses: { 200: jsonResponse("The preferences", Preferences), ...problems(400, 401, 413, 415, 422) },
});

export function preferenceRoutes() {
  const app = newRouter();
  app.openapi(get, async (c) => c.json(await myPreferences(contextOf(c)), 200));
  app.openapi(put, async (c) => {
    const body = c.req.valid("json");
    const email = NOTIFICATION_TYPES.filter((t) =>
      (body.channels as Record<string, { email: boolean } | undefined>)[t]?.email
    );
    const saved = await setMyPreferences(contextOf(c), {
      email,
      quiet_hours: body.quiet_hours,
      time_zone: body.time_zone,
    });
    return c.json(saved, 200);
  });
  return app;
}
