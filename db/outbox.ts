import { and, asc, inArray, isNull, lte, notInArray, sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import { preparedFor } from "./prepared.ts";
import { outbox } from "./schema.ts";

/** An event for the outbox: a topic (`appointment.booked`, …) and what the relay needs, never health details. */
export interface OutboxEvent {
  topic: string;
  payload: Record<string, unknown>;
  /** Not relayed before this instant (e.g. mail held back by quiet hours). */
  availableAt?: Date;
}

export type OutboxRow = typeof outbox.$inferSelect;

const insertEvent = preparedFor((db) =>
  db.insert(outbox).values({
    topic: sql.placeholder("topic"),
    payload: sql.placeholder("payload"),
    createdAt: sql.placeholder("createdAt"),
    availableAt: sql.placeholder("availableAt"),
  }).prepare("insert_outbox_event")
);

/**
 * Writes an event in the caller's transaction, so it exists exactly when the change does. The
 * insert wakes every instance's relay when the transaction commits (migration 0013's trigger).
 */
export async function insertOutboxEvent(tx: Database, event: OutboxEvent, at: Date): Promise<void> {
  await insertEvent(tx).execute({
    topic: event.topic,
    payload: event.payload,
    createdAt: at,
    availableAt: event.availableAt ?? at,
  });
}

/**
 * Takes pending events due by `now`, oldest first, locking them for the caller's transaction;
 * rows another relay holds are skipped, so each event goes to exactly one relay.
 */
export function claimEvents(
  tx: Database,
  now: Date,
  limit: number,
  topics: { only?: string[]; except?: string[] } = {},
): Promise<OutboxRow[]> {
  return tx.select().from(outbox)
    .where(and(
      isNull(outbox.processedAt),
      lte(outbox.availableAt, now),
      topics.only ? inArray(outbox.topic, topics.only) : undefined,
      topics.except ? notInArray(outbox.topic, topics.except) : undefined,
    ))
    .orderBy(asc(outbox.availableAt), asc(outbox.id))
    .limit(limit)
    .for("update", { skipLocked: true });
}

export async function markProcessed(tx: Database, ids: number[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx.update(outbox).set({ processedAt: now, attempts: sql`${outbox.attempts} + 1` })
    .where(inArray(outbox.id, ids));
}

/** Counts a failed delivery and puts the event back for later. */
export async function deferEvent(db: Database, id: number, until: Date): Promise<void> {
  await db.update(outbox).set({ availableAt: until, attempts: sql`${outbox.attempts} + 1` })
    .where(sql`${outbox.id} = ${id}`);
}
