import { z } from "@hono/zod-openapi";
import { MAX_ROW_ID as MAX_ID, ROW_ID_TEXT } from "../services/ids.ts";

/**
 * A row id as text (path or query): a canonical positive integer in range, exactly as the server
 * writes ids. `03`, `0x3`, `3.0` or 2,100 leading zeros are not ids, so the id a request names
 * and the id its audit record holds are always the same.
 */
export const idText = z.string().regex(ROW_ID_TEXT, "A positive integer id")
  .transform(Number)
  .pipe(z.number().int().max(MAX_ID))
  .openapi({ type: "integer", minimum: 1, maximum: MAX_ID });

/** The instants every field and filter accepts: what both a JS Date and Postgres hold. */
export const EARLIEST_INSTANT = Date.UTC(1, 0, 1);
export const LATEST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An ISO 8601 instant with an offset, between years 1 and 9999 once in UTC. */
export const instant = z.iso.datetime({ offset: true })
  .refine((text) => {
    const t = new Date(text).getTime();
    return t >= EARLIEST_INSTANT && t <= LATEST_INSTANT;
  }, "Must fall between 0001-01-01 and 9999-12-31 in UTC");

/** A calendar date (YYYY-MM-DD) from year 1. */
export const calendarDate = z.iso.date().refine((text) => !text.startsWith("0000"), "Must be from year 1");

/** A small count as text (`?page_size=`, `?duration=`): canonical digits only. */
export function countText(min: number, max: number) {
  return z.string().regex(/^[1-9][0-9]{0,5}$/, `An integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .openapi({ type: "integer", minimum: min, maximum: max });
}

/** A path id; anything else reads as not found. */
export const IdParam = z.object({
  id: idText.openapi({ param: { name: "id", in: "path" }, example: 1 }),
});

/** An owner field the server derives from the caller: omit it, or send the caller's own id. */
export const ownerField = z.number().int().positive().max(MAX_ID);

/** Account fields shared by registration, sign-in and the users resource. */
/** A username never holds an `@`: an address is an e-mail, and only ever signs in as one. */
export const username = z.string().min(3).max(150).regex(/^[A-Za-z0-9_.+-]+$/, "Letters, digits and . + - _ only");
export const email = z.email().max(254);
export const phone = z.string().max(32).regex(/^[0-9+() .-]*$/, "Digits, spaces and + ( ) . - only");

export const User = z.object({
  id: z.number().int(),
  username: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  account_status: z.enum(["active", "suspended", "deactivated"]),
  roles: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  last_login: z.string().nullable(),
}).openapi("User");

export const Me = z.object({
  id: z.number().int(),
  username: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  account_status: z.string(),
  roles: z.array(z.string()),
  permissions: z.array(z.string()),
  profile: z.record(z.string(), z.unknown()).nullable(),
}).openapi("Me");

/** An IANA zone name as the runtime's time zone database knows it (not a bare UTC offset), stored as it spells it. */
export const TimeZone = z.string().max(64)
  .refine(isTimeZone, "Not an IANA time zone, such as Europe/Paris")
  .overwrite(canonicalTimeZone)
  .openapi({ description: "IANA time zone name", example: "Europe/Paris" });

function isTimeZone(name: string): boolean {
  // Intl also takes bare offsets such as "+05:00"; those are not zone names.
  if (!/^[A-Za-z]/.test(name)) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function canonicalTimeZone(name: string): string {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return name;
  }
}
