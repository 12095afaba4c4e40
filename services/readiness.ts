import { sql } from "drizzle-orm";
import type { AppDeps } from "../app_env.ts";
import { committedMigrationCount, queryRows } from "../db/client.ts";

/** Why the instance should not take traffic, or null when the database answers and is migrated. */
export async function readinessProblem(deps: Pick<AppDeps, "db">): Promise<string | null> {
  try {
    const [row] = await queryRows<{ applied: number }>(
      deps.db,
      sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
    );
    return Number(row.applied) < await committedMigrationCount() ? "database migrations are pending" : null;
  } catch {
    return "the database does not answer";
  }
}
