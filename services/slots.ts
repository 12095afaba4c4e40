import { busyTimes, doctorSchedule } from "../db/appointments.ts";
import { Invalid, NotFound } from "../errors.ts";
import type { ServiceContext } from "./context.ts";
import { aroundLocalDate, freeSlots, type Interval, parseLocalDate, safeTimeZone } from "./working_hours.ts";

/**
 * A doctor's free slots of `duration` minutes on a local date (`YYYY-MM-DD` in the doctor's zone):
 * times only, never who is booked, so any signed-in user may ask and nothing is audited.
 */
export async function doctorFreeSlots(
  ctx: ServiceContext,
  doctorId: number,
  dateText: string | undefined,
  duration: number,
): Promise<{ timeZone: string; slots: Interval[] }> {
  const date = parseLocalDate(dateText);
  if (!date) throw new Invalid([{ parameter: "date", detail: "A calendar date as YYYY-MM-DD" }], "The date is invalid");
  const { db } = ctx.deps;
  const schedule = await doctorSchedule(db, doctorId);
  if (!schedule) throw new NotFound();
  const window = aroundLocalDate(date);
  // Nothing is stored or booked past the last instant both a JS Date and the database hold.
  const end = new Date(Math.min(window.end.getTime(), LATEST_INSTANT));
  const busy = await busyTimes(db, doctorId, window.start, end);
  const slots = freeSlots(schedule, date, duration, busy, ctx.now).filter((s) => s.end.getTime() <= LATEST_INSTANT);
  return { timeZone: safeTimeZone(schedule.timeZone), slots };
}

/** 9999-12-31T23:59:59.999Z: an appointment cannot end later (appointment_rules), so no slot does. */
const LATEST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
