import type { Database } from "./client.ts";
import { integrationLogs } from "./schema.ts";

/** One exchange with an outside system (a mail sent, a provider called, a webhook received). */
export interface IntegrationLogEntry {
  systemName: string;
  dataType: string;
  dataReference?: string;
  syncStatus: "pending" | "success" | "failed";
  /** What happened, without card data, secrets or health details. */
  detail?: string;
}

export async function insertIntegrationLog(
  db: Pick<Database, "insert">,
  entry: IntegrationLogEntry,
  at: Date,
): Promise<void> {
  await db.insert(integrationLogs).values({
    systemName: entry.systemName,
    dataType: entry.dataType,
    dataReference: entry.dataReference ?? "",
    syncStatus: entry.syncStatus,
    detail: (entry.detail ?? "").slice(0, 2000),
    createdAt: at,
  });
}
