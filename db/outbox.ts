import type { Database } from "./client.ts";
import { outbox } from "./schema.ts";

/** An event for the outbox: a topic (`appointment.booked`, …) and what the relay needs, never health details. */
export interface OutboxEvent {
  topic: string;
  payload: Record<string, unknown>;
}

/** Writes an event in the caller's transaction, so it exists exactly when the change does. */
export async function insertOutboxEvent(tx: Pick<Database, "insert">, event: OutboxEvent, at: Date): Promise<void> {
  await tx.insert(outbox).values({ topic: event.topic, payload: event.payload, createdAt: at });
}
