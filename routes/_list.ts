import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { publicUrl } from "../config.ts";
import type { AppEnv } from "../middleware/env.ts";
import type { PageRequest, Slice } from "../services/pagination.ts";

/** `?page_size=` (default 50, at most 200) and `?cursor=` (opaque, from a page's links). */
export const pageQuery = {
  page_size: z.string().regex(/^[1-9][0-9]{0,2}$/, "An integer from 1 to 200").transform(Number)
    .pipe(z.number().int().max(200)).default(50).openapi({ type: "integer", minimum: 1, maximum: 200 }),
  cursor: z.string().max(500).optional(),
};

/** `?ordering=`: `field` or `-field`, one of the fields offered. */
export function orderingQuery<const K extends string>(fields: readonly K[], fallback: string) {
  const allowed = fields.flatMap((f) => [f, `-${f}`]) as [string, ...string[]];
  return z.enum(allowed).default(fallback).openapi({ description: `One of ${allowed.join(", ")}` });
}

/** The page request in a validated list query. */
export function pageRequest(
  query: { page_size: number; cursor?: string; ordering?: string },
  ordering = "id",
): PageRequest {
  return { ordering: query.ordering ?? ordering, pageSize: query.page_size, cursor: query.cursor };
}

/** The DRF page `{next, previous, results}`: links on the configured public base (never the Host header). */
export function page<Row, Out>(c: Context<AppEnv>, slice: Slice<Row>, view: (row: Row) => Out) {
  const link = (cursor: string | null) => {
    if (!cursor) return null;
    const incoming = new URL(c.req.url);
    const url = new URL(`${incoming.pathname}${incoming.search}`, publicUrl(c.get("deps").config));
    url.searchParams.set("cursor", cursor);
    return url.toString();
  };
  return { next: link(slice.next), previous: link(slice.previous), results: slice.rows.map(view) };
}

/** The DRF cursor page shape, for documentation. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ next: z.string().nullable(), previous: z.string().nullable(), results: z.array(item) });
}
