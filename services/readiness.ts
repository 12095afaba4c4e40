import { sql } from "drizzle-orm";
import type { AppDeps } from "./deps.ts";
import { isConnectionError } from "../db/availability.ts";
import { committedMigrationCount, queryRows } from "../db/client.ts";

/** Why the instance should not take traffic, or null when the database answers and is migrated. */
export async function readinessProblem(deps: Pick<AppDeps, "db" | "availability">): Promise<string | null> {
  try {
    const [row] = await queryRows<{ applied: number }>(
      deps.db,
      sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
    );
    deps.availability.reached();
    return Number(row.applied) < await committedMigrationCount() ? "database migrations are pending" : null;
  } catch (e) {
    if (isConnectionError(e)) deps.availability.lost(e);
    return "the database does not answer";
  }
}
