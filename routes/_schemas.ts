import { z } from "@hono/zod-openapi";

const MAX_ID = 2147483647;

/**
 * A row id as text (path or query): a canonical positive integer in range, exactly as the server
 * writes ids. `03`, `0x3`, `3.0` or 2,100 leading zeros are not ids, so the id a request names
 * and the id its audit record holds are always the same.
 */
export const idText = z.string().regex(/^[1-9][0-9]{0,9}$/, "A positive integer id")
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

/** The DRF cursor page shape. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ next: z.string().nullable(), previous: z.string().nullable(), results: z.array(item) });
}
