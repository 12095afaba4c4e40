import { z } from "@hono/zod-openapi";

/** A path id: a positive 32-bit integer; anything else reads as not found. */
export const IdParam = z.object({
  id: z.coerce.number().int().positive().max(2147483647).openapi({ param: { name: "id", in: "path" }, example: 1 }),
});

/** An owner field the server derives from the caller: omit it, or send the caller's own id. */
export const ownerField = z.number().int().positive().max(2147483647);

/** The DRF cursor page shape. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ next: z.string().nullable(), previous: z.string().nullable(), results: z.array(item) });
}
