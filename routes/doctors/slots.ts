/** `GET /doctors/{id}/slots/`: a doctor's free slots on a date, for booking. */
import { z } from "@hono/zod-openapi";
import { contextOf } from "../../middleware/service_context.ts";
import { doctorFreeSlots } from "../../services/slots.ts";
import { declareRoute, jsonResponse, newRouter, problems } from "../_route.ts";
import { countText, IdParam } from "../_schemas.ts";

const SlotsQuery = z.object({
  date: z.string().optional().openapi({ description: "YYYY-MM-DD in the doctor's time zone (required)" }),
  duration: countText(5, 480).default(30),
});

const Slots = z.object({
  doctor: z.number().int(),
  date: z.string(),
  time_zone: z.string(),
  duration_minutes: z.number().int(),
  slots: z.array(z.object({ start: z.string(), end: z.string() })),
}).openapi("FreeSlots");

const slots = declareRoute({
  method: "get",
  path: "/doctors/{id}/slots",
  operationId: "doctors_slots",
  tags: ["doctors"],
  summary: "A doctor's free slots on a date (start and end only; never who is booked)",
  access: { kind: "signed-in" },
  request: { params: IdParam, query: SlotsQuery },
  responses: { 200: jsonResponse("Free slots, in UTC", Slots), ...problems(400, 401, 404, 422) },
});

export function slotRoutes() {
  const app = newRouter();
  app.openapi(slots, async (c) => {
    const { id } = c.req.valid("param");
    const { date, duration } = c.req.valid("query");
    const free = await doctorFreeSlots(contextOf(c), id, date, duration);
    return c.json({
      doctor: id,
      date: date!,
      time_zone: free.timeZone,
      duration_minutes: duration,
      slots: free.slots.map((s) => ({ start: s.start.toISOString(), end: s.end.toISOString() })),
    }, 200);
  });
  return app;
}
