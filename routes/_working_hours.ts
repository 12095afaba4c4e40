/** A doctor's weekly working hours: the one schema the API and the admin console validate them with. */
import { z } from "@hono/zod-openapi";

const HH_MM = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;
const timeOfDay = z.string().regex(HH_MM, "Use HH:MM, from 00:00 to 24:00");
const byStart = (a: { start: string }, b: { start: string }) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);
/** Both ends well formed (their own issues are reported already) and in order. */
const inOrder = (i: { start: string; end: string }) => HH_MM.test(i.start) && HH_MM.test(i.end) && i.start < i.end;
const Interval = z.strictObject({ start: timeOfDay, end: timeOfDay })
  .refine((i) => !HH_MM.test(i.start) || !HH_MM.test(i.end) || i.start < i.end, {
    message: "Must be later than start",
    path: ["end"],
  });
/** One day's hours: up to 4 intervals that do not overlap, stored in start order. */
const Day = z.array(Interval).max(4)
  .superRefine((day, ctx) => {
    if (!day.every(inOrder)) return;
    const sorted = day.map((interval, index) => ({ ...interval, index })).sort(byStart);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].start < sorted[i - 1].end) {
        ctx.addIssue({ code: "custom", message: "Overlaps another interval of the same day", path: [sorted[i].index] });
      }
    }
  })
  .overwrite((day) => [...day].sort(byStart));
export const WorkingHours = z.strictObject({
  mon: Day.optional(),
  tue: Day.optional(),
  wed: Day.optional(),
  thu: Day.optional(),
  fri: Day.optional(),
  sat: Day.optional(),
  sun: Day.optional(),
}).openapi("WorkingHours", {
  description: "Weekly hours in the doctor's time zone: per weekday, up to 4 `{start, end}` intervals (HH:MM)",
  example: { mon: [{ start: "09:00", end: "12:00" }, { start: "13:00", end: "17:00" }] },
});
