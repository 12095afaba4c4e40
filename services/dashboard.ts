/** The console dashboard: counts and per-day series, read through the unit of work (one record). */
import { appointmentsPerDay, type DayCount, paymentsPerDay, userCounts } from "../db/dashboard.ts";
import type { ServiceContext } from "./context.ts";

export type { DayCount };

export interface Dashboard {
  users?: { active: number; suspended: number; total: number };
  /** Scheduled appointments per day, today and the 13 days after. */
  appointments?: DayCount[];
  /** Completed payments per day, the 29 days before today and today. */
  payments?: DayCount[];
}

/** Only the parts the caller's permissions cover are computed (`include`). */
export function readDashboard(
  ctx: ServiceContext,
  include: { users: boolean; appointments: boolean; payments: boolean },
): Promise<Dashboard> {
  const today = new Date(Date.UTC(ctx.now.getUTCFullYear(), ctx.now.getUTCMonth(), ctx.now.getUTCDate()));
  return ctx.uow.read(async (db) => {
    const result: Dashboard = {};
    if (include.users) result.users = await userCounts(db);
    if (include.appointments) result.appointments = await appointmentsPerDay(db, today, 14);
    if (include.payments) result.payments = await paymentsPerDay(db, new Date(today.getTime() - 29 * 86_400_000), 30);
    return { result, details: { parts: Object.keys(result) } };
  }, { action: "read", table: "dashboard" });
}
