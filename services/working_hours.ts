/**
 * Working hours and time zones with Intl only (no time-zone library): a doctor's weekly hours in
 * their zone turned into UTC intervals on a local date, whether a booking fits them, and the free
 * slots of a day.
 */

/** `working_hours` as stored on the doctor's profile (`{mon: [{start: "09:00", end: "17:00"}], …}`), and its zone. */
export interface DoctorSchedule {
  workingHours: unknown;
  timeZone: string | null;
}

export interface Interval {
  start: Date;
  end: Date;
}

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const HH_MM = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

/** A `YYYY-MM-DD` calendar date, or null when it is malformed or does not exist (2031-02-30). */
export function parseLocalDate(text: string | undefined): LocalDate | null {
  const m = text?.match(/^(\d{4})-(\d{2})-(\d{2})$/);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  return { year, month, day };
}

/**
 * The doctor's working intervals on one local calendar date, as UTC instants (so a day with a DST
 * change has the right length); null when the doctor keeps no working hours at all.
 */
export function workingIntervals(schedule: DoctorSchedule, date: LocalDate): Interval[] | null {
  const hours = schedule.workingHours;
  if (hours === null || hours === undefined || typeof hours !== "object" || Array.isArray(hours)) return null;
  const zone = safeTimeZone(schedule.timeZone);
  const weekday = WEEKDAYS[new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay()];
  const entries = (hours as Record<string, unknown>)[weekday];
  if (!Array.isArray(entries)) return [];
  const intervals: Interval[] = [];
  for (const entry of entries) {
    const from = minutesOf((entry as { start?: unknown })?.start);
    const to = minutesOf((entry as { end?: unknown })?.end);
    if (from === null || to === null || to <= from) continue;
    intervals.push({ start: zonedTimeToUtc(date, from, zone), end: zonedTimeToUtc(date, to, zone) });
  }
  return intervals.sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** True when the doctor keeps no hours, or [start, end) lies inside one interval of the start's local day. */
export function fitsWorkingHours(schedule: DoctorSchedule, start: Date, end: Date): boolean {
  const intervals = workingIntervals(schedule, localDateOf(start, safeTimeZone(schedule.timeZone)));
  if (intervals === null) return true;
  return intervals.some((i) => i.start.getTime() <= start.getTime() && end.getTime() <= i.end.getTime());
}

/**
 * Free slots of `duration` minutes on a local date: each working interval (or, without working
 * hours, the whole local day) cut from its start, minus slots that overlap a booking, future only.
 */
export function freeSlots(
  schedule: DoctorSchedule,
  date: LocalDate,
  durationMinutes: number,
  busy: Interval[],
  now: Date,
): Interval[] {
  const zone = safeTimeZone(schedule.timeZone);
  const intervals = workingIntervals(schedule, date) ??
    [{ start: zonedTimeToUtc(date, 0, zone), end: zonedTimeToUtc(date, 24 * 60, zone) }];
  const step = durationMinutes * 60_000;
  const slots: Interval[] = [];
  for (const interval of intervals) {
    for (let t = interval.start.getTime(); t + step <= interval.end.getTime(); t += step) {
      if (t <= now.getTime()) continue;
      if (busy.some((b) => b.start.getTime() < t + step && t < b.end.getTime())) continue;
      slots.push({ start: new Date(t), end: new Date(t + step) });
    }
  }
  return slots;
}

/** A UTC window that contains a local calendar date in every zone (offsets run from −12 to +14 hours). */
export function aroundLocalDate(date: LocalDate): Interval {
  const midnight = Date.UTC(date.year, date.month - 1, date.day);
  return { start: new Date(midnight - 15 * 3600_000), end: new Date(midnight + 39 * 3600_000) };
}

/** The IANA zone if the runtime knows it, else UTC (a stored zone is validated when it is written). */
export function safeTimeZone(zone: string | null | undefined): string {
  if (!zone) return "UTC";
  try {
    formatterFor(zone);
    return zone;
  } catch {
    return "UTC";
  }
}

/**
 * The instant at which the wall clock in `zone` shows `minutes` after midnight of `date`.
 * Two passes of the zone offset settle DST edges; a wall time skipped by a spring-forward change
 * maps to the instant an hour later on the wall clock, as most calendars do.
 */
export function zonedTimeToUtc(date: LocalDate, minutes: number, zone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
  const first = offsetOf(wall, zone);
  let instant = wall - first;
  const second = offsetOf(instant, zone);
  if (second !== first) instant = wall - second;
  return new Date(instant);
}

/** The local calendar date of an instant in `zone`. */
export function localDateOf(instant: Date, zone: string): LocalDate {
  const p = partsOf(instant.getTime(), zone);
  return { year: p.year, month: p.month, day: p.day };
}

function minutesOf(value: unknown): number | null {
  const m = typeof value === "string" ? value.match(HH_MM) : null;
  if (!m) return null;
  return m[3] ? 24 * 60 : Number(m[1]) * 60 + Number(m[2]);
}

/** Milliseconds the zone's wall clock is ahead of UTC at `instant`. */
function offsetOf(instant: number, zone: string): number {
  const p = partsOf(instant, zone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, f);
  }
  return f;
}

function partsOf(instant: number, zone: string) {
  const out: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(instant))) {
    if (part.type !== "literal") out[part.type] = Number(part.value);
  }
  return {
    year: out.year,
    month: out.month,
    day: out.day,
    hour: out.hour % 24,
    minute: out.minute,
    second: out.second,
  };
}
