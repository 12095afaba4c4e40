import type { Database } from "../db/client.ts";
import { insertIntegrationLog, type IntegrationLogEntry } from "../db/integration_logs.ts";
import { insertOutboxEvent, type OutboxEvent } from "../db/outbox.ts";

/** Side effects that must commit with the change. */
export interface Effects {
  emit(event: OutboxEvent): Promise<void>;
  log(entry: IntegrationLogEntry): Promise<void>;
}

/** A write's effects, in its transaction; `logged` keeps each integration-log entry for after a rollback. */
export function effectsOf(tx: Database, now: Date, logged: IntegrationLogEntry[]): Effects {
  return {
    // Every instance's relay wakes when the transaction commits (and not if it rolls back).
    emit: (event) => insertOutboxEvent(tx, event, now),
    log(entry) {
      logged.push(entry);
      return insertIntegrationLog(tx, entry, now);
    },
  };
}
