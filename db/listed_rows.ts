import { getTableColumns, type SQLWrapper, type Table } from "drizzle-orm";
import { type Database, queryRows } from "./client.ts";

/**
 * A row as a hot list reads it: its instants already the ISO text the API answers with. Mapping
 * a 200-row page through drizzle (a Date per timestamp, `toISOString` per Date in the view) was
 * two fifths of the appointment list's CPU; the text Postgres sends is rewritten instead.
 */
export type Listed<Row> = {
  [K in keyof Row]: Row[K] extends Date ? string : Row[K] extends Date | null ? string | null : Row[K];
};

/** Runs a `select()` of all of `table`'s columns and maps each row to `Listed` by the table's columns. */
export async function listedRows<T extends Table>(
  db: Database,
  query: SQLWrapper,
  table: T,
): Promise<Listed<T["$inferSelect"]>[]> {
  const fields = fieldsOf(table);
  const rows = await queryRows<Record<string, unknown>>(db, query.getSQL());
  return rows.map((raw) => {
    const row: Record<string, unknown> = {};
    for (const [key, name, decode] of fields) {
      const value = raw[name];
      row[key] = value === null || value === undefined ? null : decode(value);
    }
    return row as Listed<T["$inferSelect"]>;
  });
}

type Decode = (value: unknown) => unknown;
const same: Decode = (v) => v;
const DECODERS: Record<string, Decode> = {
  PgTimestamp: (v) => isoText(v as string | Date),
  PgBigInt53: (v) => Number(v),
  PgJsonb: (v) => typeof v === "string" ? JSON.parse(v) : v,
  PgInteger: same,
  PgVarchar: same,
  PgText: same,
  PgBoolean: same,
  PgDateString: same,
  PgUUID: same,
};

const fieldsByTable = new WeakMap<Table, [key: string, name: string, decode: Decode][]>();

function fieldsOf(table: Table) {
  let fields = fieldsByTable.get(table);
  if (!fields) {
    fields = Object.entries(getTableColumns(table)).map(([key, column]) => {
      // Text of a timestamp without time zone has no offset: read through a Date it would be local time.
      const local = column.columnType === "PgTimestamp" && !(column as { withTimezone?: boolean }).withTimezone;
      const decode = local ? undefined : DECODERS[column.columnType];
      if (!decode) throw new Error(`listedRows: no decoder for ${column.name} (${column.getSQLType()})`);
      return [key, column.name, decode];
    });
    fieldsByTable.set(table, fields);
  }
  return fields;
}

/**
 * A timestamptz as `Date#toISOString` writes it (milliseconds, `Z`). Postgres's text in UTC
 * (`2030-01-01 09:30:00.12+00`) is rewritten without a Date; any other form (another session time
 * zone, a year past 9999, a Date from a driver that makes them) goes through a Date.
 */
export function isoText(value: string | Date): string {
  if (typeof value !== "string") return value.toISOString();
  const n = value.length;
  if (
    value.charCodeAt(10) === 32 && value.charCodeAt(4) === 45 && value.endsWith("+00") &&
    (n === 22 || (n >= 24 && n <= 26 && value.charCodeAt(19) === 46))
  ) {
    const millis = n === 22 ? "000" : (value.slice(20, n - 3) + "00").slice(0, 3);
    return `${value.slice(0, 10)}T${value.slice(11, 19)}.${millis}Z`;
  }
  return new Date(value).toISOString();
}
