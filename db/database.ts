import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.ts";

/** One type for every driver, so the data layer is written once. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
