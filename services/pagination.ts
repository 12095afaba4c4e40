import { z } from "@hono/zod-openapi";
import { and, asc, desc, eq, gt, lt, or } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { base64url } from "jose";
import { ProblemError } from "../middleware/problem.ts";

/** `?page_size=` (default 50, at most 200), `?cursor=` (opaque), `?ordering=` (`field` or `-field`). */
export const pageQuery = {
  page_size: z.string().regex(/^[1-9][0-9]{0,2}$/, "An integer from 1 to 200").transform(Number)
    .pipe(z.number().int().max(200)).default(50).openapi({ type: "integer", minimum: 1, maximum: 200 }),
  cursor: z.string().max(500).optional(),
};

export function orderingQuery<const K extends string>(fields: readonly K[], fallback: string) {
  const allowed = fields.flatMap((f) => [f, `-${f}`]) as [string, ...string[]];
  return z.enum(allowed).default(fallback).openapi({ description: `One of ${allowed.join(", ")}` });
}

export interface Page<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

interface Cursor {
  o: string; // ordering the cursor was made for
  v: string | number | null; // sort value of the edge row
  t?: "date";
  i: number; // id of the edge row
  d: "n" | "p"; // direction
}

/**
 * Keyset pagination, DRF cursor style: the query runs once with `where`, `orderBy` and `limit`
 * from here, then `page()` turns its rows into `{next, previous, results}` with opaque cursors.
 */
export function keyset(options: {
  ordering: string;
  columns: Record<string, AnyPgColumn>;
  id: AnyPgColumn;
  pageSize: number;
  cursor?: string;
  /** The request URL rebuilt on the public base, for the next and previous links. */
  url: URL;
}) {
  const descending = options.ordering.startsWith("-");
  const field = options.ordering.replace(/^-/, "");
  const column = options.columns[field];
  const cursor = options.cursor ? decodeCursor(options.cursor, options.ordering) : undefined;
  const backwards = cursor?.d === "p";
  // Moving forward on an ascending ordering (or backward on a descending one) means "greater".
  const greater = descending === backwards;
  const value = cursor ? (cursor.t === "date" ? new Date(String(cursor.v)) : cursor.v) : undefined;
  const where = cursor
    ? or(
      greater ? gt(column, value) : lt(column, value),
      and(eq(column, value), greater ? gt(options.id, cursor.i) : lt(options.id, cursor.i)),
    )
    : undefined;
  const dir = greater ? asc : desc;
  return {
    where,
    orderBy: [dir(column), dir(options.id)],
    limit: options.pageSize + 1,
    page<Row, Out>(rows: Row[], key: (row: Row) => { value: unknown; id: number }, view: (row: Row) => Out): Page<Out> {
      const more = rows.length > options.pageSize;
      const kept = rows.slice(0, options.pageSize);
      if (backwards) kept.reverse();
      const link = (row: Row | undefined, d: "n" | "p") => {
        if (!row) return null;
        const { value, id } = key(row);
        const c: Cursor = value instanceof Date
          ? { o: options.ordering, v: value.toISOString(), t: "date", i: id, d }
          : { o: options.ordering, v: value as string | number | null, i: id, d };
        const url = new URL(options.url);
        url.searchParams.set("cursor", base64url.encode(JSON.stringify(c)));
        return url.toString();
      };
      const hasNext = backwards ? Boolean(cursor) : more;
      const hasPrevious = backwards ? more : Boolean(cursor);
      return {
        next: hasNext ? link(kept.at(-1), "n") : null,
        previous: hasPrevious ? link(kept[0], "p") : null,
        results: kept.map(view),
      };
    },
  };
}

function decodeCursor(raw: string, ordering: string): Cursor {
  try {
    const c = JSON.parse(new TextDecoder().decode(base64url.decode(raw))) as Cursor;
    const valueOk = c.v === null || typeof c.v === "string" || typeof c.v === "number";
    if (c.o === ordering && valueOk && Number.isSafeInteger(c.i) && (c.d === "n" || c.d === "p")) {
      if (c.t !== "date" || !Number.isNaN(new Date(String(c.v)).getTime())) return c;
    }
  } catch {
    // fall through
  }
  throw new ProblemError(400, "invalid-cursor", "The cursor is invalid or was made for another ordering", {
    errors: [{ parameter: "cursor", detail: "Use the next or previous link of a page" }],
  });
}

/** The URL of the current request on the configured public base (never the Host header). */
export function publicRequestUrl(base: string, requestUrl: string): URL {
  const incoming = new URL(requestUrl);
  return new URL(`${incoming.pathname}${incoming.search}`, base);
}
