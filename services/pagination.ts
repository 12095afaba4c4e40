/**
 * Keyset pagination, DRF cursor style: a query runs once with the `where`, `orderBy` and `limit`
 * given here, and `slice()` turns its rows into a page with opaque cursors for the next and
 * previous pages. Links are the HTTP layer's business; this module only knows rows and cursors.
 *
 * A cursor is `payload.signature`: the payload (ordering, edge value and id, direction) signed
 * with HMAC-SHA256 under a key derived from the token signing key, bound to the list it was made
 * for. The server only ever reads back a value it wrote itself, so a client cannot make it compare
 * a timestamp with text (a 500 before) or reach rows by crafting edges; anything else is 400.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { and, asc, desc, eq, getTableName, gt, lt, or, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { base64url } from "jose";
import { Malformed } from "../errors.ts";

/** A sortable field: its column, and how to read the value from a row (for the cursor). */
export interface Ordering<Row> {
  column: AnyPgColumn;
  value(row: Row): string | number | Date | null;
}

export interface PageRequest {
  /** `field` or `-field`, one of the orderings' keys. */
  ordering: string;
  pageSize: number;
  cursor?: string;
}

/** One page of rows, with the cursors that lead on. */
export interface Slice<Row> {
  rows: Row[];
  next: string | null;
  previous: string | null;
}

export interface Cursor {
  o: string; // ordering the cursor was made for
  v: string | number | null; // sort value of the edge row
  t?: "date";
  i: number; // id of the edge row
  d: "n" | "p"; // direction
}

export interface Keyset<Row> {
  where: SQL | undefined;
  orderBy: SQL[];
  limit: number;
  slice(rows: Row[]): Slice<Row>;
}

/**
 * The query parts and cursors of one page. `cursorKey` signs and checks the cursors (the tokens'
 * `cursorKey`); a cursor is bound to the list of `id`'s table.
 */
export function keyset<Row>(
  request: PageRequest,
  orderings: Record<string, Ordering<Row>>,
  id: { column: AnyPgColumn; value(row: Row): number },
  cursorKey: Uint8Array,
): Keyset<Row> {
  const signer = { key: cursorKey, list: `${getTableName(id.column.table)}.${id.column.name}` };
  const descending = request.ordering.startsWith("-");
  const ordering = orderings[request.ordering.replace(/^-/, "")];
  if (!ordering) {
    throw new Malformed("invalid-parameters", "Unknown ordering", [{ parameter: "ordering", detail: "Not offered" }]);
  }
  const column = ordering.column;
  const cursor = request.cursor ? decodeCursor(request.cursor, request.ordering, signer) : undefined;
  const backwards = cursor?.d === "p";
  // Moving forward on an ascending ordering (or backward on a descending one) means "greater".
  const greater = descending === backwards;
  const value = cursor ? (cursor.t === "date" ? new Date(String(cursor.v)) : cursor.v) : undefined;
  const where = cursor
    ? or(
      greater ? gt(column, value) : lt(column, value),
      and(eq(column, value), greater ? gt(id.column, cursor.i) : lt(id.column, cursor.i)),
    )
    : undefined;
  const dir = greater ? asc : desc;
  return {
    where,
    orderBy: [dir(column), dir(id.column)],
    limit: request.pageSize + 1,
    slice(rows) {
      const more = rows.length > request.pageSize;
      const kept = rows.slice(0, request.pageSize);
      if (backwards) kept.reverse();
      const edge = (row: Row | undefined, d: "n" | "p") => {
        if (!row) return null;
        const v = ordering.value(row);
        const c: Cursor = v instanceof Date
          ? { o: request.ordering, v: v.toISOString(), t: "date", i: id.value(row), d }
          : { o: request.ordering, v, i: id.value(row), d };
        return encodeCursor(c, signer);
      };
      const hasNext = backwards ? Boolean(cursor) : more;
      const hasPrevious = backwards ? more : Boolean(cursor);
      return {
        rows: kept,
        next: hasNext ? edge(kept.at(-1), "n") : null,
        previous: hasPrevious ? edge(kept[0], "p") : null,
      };
    },
  };
}

/** Who signs a list's cursors: the key, and the list the cursor is bound to. */
export interface CursorSigner {
  key: Uint8Array;
  list: string;
}

function signature(signer: CursorSigner, payload: string): Uint8Array {
  return createHmac("sha256", signer.key).update(`${signer.list}\n${payload}`).digest();
}

export function encodeCursor(cursor: Cursor, signer: CursorSigner): string {
  const payload = base64url.encode(JSON.stringify(cursor));
  return `${payload}.${base64url.encode(signature(signer, payload))}`;
}

/** The cursor's content once its signature checks (constant time) and its shape is right; 400 otherwise. */
export function decodeCursor(raw: string, ordering: string, signer: CursorSigner): Cursor {
  try {
    const [payload, mac, ...rest] = raw.split(".");
    // Compared as text, so that a signature spelt differently (the last character's unused bits
    // set) is refused like any other change.
    const given = new TextEncoder().encode(mac ?? "");
    const expected = new TextEncoder().encode(base64url.encode(signature(signer, payload)));
    if (rest.length > 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new Error("bad signature");
    }
    const c = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Cursor;
    const valueOk = c.v === null || typeof c.v === "string" || typeof c.v === "number";
    if (c.o === ordering && valueOk && Number.isSafeInteger(c.i) && (c.d === "n" || c.d === "p")) {
      if (c.t !== "date" || !Number.isNaN(new Date(String(c.v)).getTime())) return c;
    }
  } catch {
    // fall through
  }
  throw new Malformed("invalid-cursor", "The cursor is invalid or was made for another ordering", [
    { parameter: "cursor", detail: "Use the next or previous link of a page" },
  ]);
}
