/** Quiet hours: local times in a user's zone during which no mail goes out (it waits until they end). */
import { localDateOf, zonedTimeToUtc } from "./working_hours.ts";

export interface QuietHours {
  start: string;
  end: string;
  timeZone: string;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When mail may go out: `now`, or the end of the quiet hours `now` falls in. Quiet hours may span
 * midnight (22:00–07:00); equal start and end mean none.
 */
export function mailableAt(now: Date, quiet: QuietHours | null): Date {
  if (!quiet || quiet.start === quiet.end) return now;
  const zone = quiet.timeZone;
  const today = localDateOf(now, zone);
  const [start, end] = [minutes(quiet.start), minutes(quiet.end)];
  const at = (date: typeof today, m: number) => zonedTimeToUtc(date, m, zone);
  const nextDay = localDateOf(new Date(at(today, 0).getTime() + 36 * 3600_000), zone);
  const previousDay = localDateOf(new Date(at(today, 0).getTime() - 12 * 3600_000), zone);
  // The quiet windows that may contain now: one that began yesterday and one that begins today.
  const windows = start < end
    ? [[at(today, start), at(today, end)]]
    : [[at(previousDay, start), at(today, end)], [at(today, start), at(nextDay, end)]];
  for (const [from, to] of windows) {
    if (now.getTime() >= from.getTime() && now.getTime() < to.getTime()) return to;
  }
  return now;
}
