/** The console dashboard's figures: counts and per-day series, aggregates only (no row leaves). */
import { and, count, eq, gte, lt, sql } from "drizzle-orm";
import type { Database } from "./database.ts";
import { appointments, payments, users } from "./schema.ts";

export interface DayCount {
  /** YYYY-MM-DD (UTC). */
  day: string;
  count: number;
}

export async function userCounts(db: Database): Promise<{ active: number; suspended: number; total: number }> {
  const rows = await db.select({ status: users.accountStatus, n: count() }).from(users).groupBy(users.accountStatus);
  const of = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
  return { active: of("active"), suspended: of("suspended"), total: rows.reduce((sum, r) => sum + r.n, 0) };
}

/** Scheduled appointments per UTC day from `from` for `days` days. */
export function appointmentsPerDay(db: Database, from: Date, days: number): Promise<DayCount[]> {
  const day = sql<string>`to_char(${appointments.appointmentDate} at time zone 'UTC', 'YYYY-MM-DD')`;
  return perDay(
    db.select({ day, count: count() }).from(appointments).where(and(
      eq(appointments.status, "scheduled"),
      gte(appointments.appointmentDate, from),
      lt(appointments.appointmentDate, addDays(from, days)),
    )).groupBy(day),
    from,
    days,
  );
}

/** Completed (or refunded) payments per UTC day of their creation, from `from` for `days` days. */
export function paymentsPerDay(db: Database, from: Date, days: number): Promise<DayCount[]> {
  const day = sql<string>`to_char(${payments.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  return perDay(
    db.select({ day, count: count() }).from(payments).where(and(
      sql`${payments.status} in ('completed', 'refunded')`,
      gte(payments.createdAt, from),
      lt(payments.createdAt, addDays(from, days)),
    )).groupBy(day),
    from,
    days,
  );
}

/** Every day of the range, zero where nothing happened. */
async function perDay(query: Promise<DayCount[]>, from: Date, days: number): Promise<DayCount[]> {
  const found = new Map((await query).map((r) => [r.day, Number(r.count)]));
  return Array.from({ length: days }, (_, i) => {
    const day = addDays(from, i).toISOString().slice(0, 10);
    return { day, count: found.get(day) ?? 0 };
  });
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}
