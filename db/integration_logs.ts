import { and, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Database } from "./client.ts";
import type { PolicyOf } from "./policies.ts";
import { integrationLogs } from "./schema.ts";
import { inScopeRow, restrict, type Scope } from "./scope.ts";

export type IntegrationLogRow = typeof integrationLogs.$inferSelect;
export type SyncStatus = "pending" | "success" | "failed";

/** One exchange with an outside system (a mail sent, a provider called, a webhook received). */
export interface IntegrationLogEntry {
  systemName: string;
  dataType: string;
  dataReference?: string;
  syncStatus: SyncStatus;
  /** What happened, without card data, secrets or health details. */
  detail?: string;
  /** How long an outbound call took. */
  latencyMs?: number;
  /** Which try of the same call (1 for the first). */
  attempt?: number;
}

function valuesOf(entry: IntegrationLogEntry, at: Date) {
  return {
    systemName: entry.systemName.slice(0, 50),
    dataType: entry.dataType.slice(0, 50),
    dataReference: (entry.dataReference ?? "").slice(0, 200),
    syncStatus: entry.syncStatus,
    detail: (entry.detail ?? "").slice(0, 2000),
    latencyMs: entry.latencyMs === undefined ? null : Math.max(0, Math.round(entry.latencyMs)),
    attempt: entry.attempt ?? 1,
    createdAt: at,
  };
}

export async function insertIntegrationLog(
  db: Pick<Database, "insert">,
  entry: IntegrationLogEntry,
  at: Date,
): Promise<void> {
  await db.insert(integrationLogs).values(valuesOf(entry, at));
}

/** An entry an administrator appends (an exchange the system did not see); returned as stored. */
export async function appendIntegrationLog(
  db: Database,
  entry: IntegrationLogEntry,
  by: number,
  at: Date,
): Promise<IntegrationLogRow> {
  const [row] = await db.insert(integrationLogs).values({ ...valuesOf(entry, at), appendedBy: by }).returning();
  return row;
}

export const INTEGRATION_LOG_ORDERINGS = {
  created_at: { column: integrationLogs.createdAt, value: (r: IntegrationLogRow) => r.createdAt },
  id: { column: integrationLogs.id, value: (r: IntegrationLogRow) => r.id },
};
export const INTEGRATION_LOG_ID = { column: integrationLogs.id, value: (r: IntegrationLogRow) => r.id };

export interface IntegrationLogFilters {
  systemName?: string;
  syncStatus?: SyncStatus;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

/** A page of entries matching the filters, one query. */
export function listIntegrationLogs(
  db: Database,
  scope: Scope<PolicyOf<"integration_logs">>,
  filters: IntegrationLogFilters,
  page: { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<IntegrationLogRow[]> {
  return db.select().from(integrationLogs)
    .where(and(
      restrict(scope),
      filters.systemName === undefined ? undefined : eq(integrationLogs.systemName, filters.systemName),
      filters.syncStatus === undefined ? undefined : eq(integrationLogs.syncStatus, filters.syncStatus),
      filters.from === undefined ? undefined : gte(integrationLogs.createdAt, filters.from),
      filters.to === undefined ? undefined : lt(integrationLogs.createdAt, filters.to),
      page.where,
    ))
    .orderBy(...page.orderBy)
    .limit(page.limit);
}

export async function findIntegrationLog(db: Database, scope: Scope<PolicyOf<"integration_logs">>, id: number) {
  const [row] = await db.select().from(integrationLogs).where(and(eq(integrationLogs.id, id), restrict(scope)));
  return inScopeRow(row);
}
