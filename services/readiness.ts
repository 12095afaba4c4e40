import { sql } from "drizzle-orm";
import type { AppDeps } from "./deps.ts";
import { isConnectionError } from "../db/availability.ts";
import { committedMigrationCount, queryRows } from "../db/client.ts";
import { sqlState } from "../db/errors.ts";

export const MIGRATIONS_PENDING = "database migrations are pending";

/**
 * Why the instance should not take traffic, or null when the database answers and is migrated.
 * A database that answers but was never migrated (no migrations table yet) is "migrations are
 * pending", like one that is behind; one that does not exist says so.
 */
export async function readinessProblem(deps: Pick<AppDeps, "db" | "availability">): Promise<string | null> {
  const askedDuring = deps.availability.outages;
  try {
    const [row] = await queryRows<{ applied: number }>(
      deps.db,
      sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
    );
    deps.availability.reached(askedDuring);
    return Number(row.applied) < await committedMigrationCount() ? MIGRATIONS_PENDING : null;
  } catch (e) {
    if (isConnectionError(e)) {
      deps.availability.lost(e);
      return "the database does not answer";
    }
    deps.availability.reached(askedDuring);
    // 42P01: no migrations table (nothing applied yet); 3F000: no drizzle schema either.
    if (sqlState(e) === "42P01" || sqlState(e) === "3F000") return MIGRATIONS_PENDING;
    if (sqlState(e) === "3D000") return "the database does not exist";
    return "the database does not answer";
  }
}
