/**
 * Hot lists read their instants as the text Postgres sends and rewrite it as ISO text; the result
 * must be exactly what a Date's `toISOString` gives, on every driver, and a row read through
 * `listedRows` must match the same row read through drizzle.
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { sql } from "drizzle-orm";
import { queryRows } from "../db/client.ts";
import { isoText, listedRows } from "../db/listed_rows.ts";
import { numeric, pgTable, timestamp } from "drizzle-orm/pg-core";
import { appointments } from "../db/schema.ts";
import { freshDatabase } from "./_db.ts";

Deno.test("isoText rewrites Postgres's UTC text as toISOString does, and hands any other form to a Date", () => {
  const cases = [
    "2030-01-01 00:00:00+00",
    "2030-01-01 09:30:05.1+00",
    "2030-01-01 09:30:05.12+00",
    "2030-12-31 23:59:59.999+00",
    "2030-01-01 09:30:05.123456+00", // microseconds: through a Date
    "2030-01-01 10:30:05.5+01", // another session time zone
    "1999-06-01 12:00:00-07:30",
    "2030-01-01T09:30:05.120Z",
  ];
  for (const text of cases) assertEquals(isoText(text), new Date(text).toISOString(), text);
  const date = new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 10));
  assertEquals(isoText(date), date.toISOString());
  assertThrows(() => isoText("not a time"), RangeError);
});

Deno.test("isoText agrees with a Date on 2,000 instants as the database writes them", async () => {
  const db = await freshDatabase();
  try {
    const rows = await queryRows<{ t: string | Date }>(
      db.db,
      sql`select (timestamptz '2000-01-01 00:00:00+00' + random() * interval '60 years')::timestamptz(3) as t
          from generate_series(1, 2000)`,
    );
    for (const { t } of rows) assertEquals(isoText(t), new Date(t).toISOString(), String(t));
  } finally {
    await db.dispose();
  }
});

Deno.test("a row through listedRows is the row through drizzle, instants as ISO text", async () => {
  const db = await freshDatabase();
  try {
    const [patient, doctor] = await queryRows<{ id: number }>(
      db.db,
      sql`insert into users (username, email, password_hash) values ('p', 'p@example.com', 'x'), ('d', 'd@example.com', 'x')
          returning id`,
    );
    const start = new Date(Date.UTC(2031, 0, 2, 3, 4, 5, 60));
    await db.db.insert(appointments).values({
      patientId: patient.id,
      doctorId: doctor.id,
      appointmentDate: start,
      durationMinutes: 30,
      endsAt: new Date(start.getTime() + 30 * 60_000),
      reason: "check",
    });
    const [viaDrizzle] = await db.db.select().from(appointments);
    const [listed] = await listedRows(db.db, db.db.select().from(appointments), appointments);
    const asText = Object.fromEntries(
      Object.entries(viaDrizzle).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
    );
    assertEquals(listed, asText);
    // A column type the mapper does not know is refused before the query, not mapped wrongly.
    const odd = pgTable("odd", { amount: numeric("amount") });
    await assertRejects(() => listedRows(db.db, db.db.select().from(odd), odd), "no decoder for amount");
    const local = pgTable("local", { at: timestamp("at", { mode: "date" }) });
    await assertRejects(() => listedRows(db.db, db.db.select().from(local), local), "no decoder for at");
  } finally {
    await db.dispose();
  }
});
