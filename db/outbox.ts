import { and, asc, inArray, isNull, lte, notInArray, sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import { outbox } from "./schema.ts";

/** An event for the outbox: a topic (`appointment.booked`, …) and what the relay needs, never health details. */
export interface OutboxEvent {
  topic: string;
  payload: Record<string, unknown>;
  /** Not relayed before this instant (e.g. mail held back by quiet hours). */
  availableAt?: Date;
}

export type OutboxRow = typeof outbox.$inferSelect;

/** Writes an event in the caller's transaction, so it exists exactly when the change does. */
export async function insertOutboxEvent(tx: Pick<Database, "insert">, event: OutboxEvent, at: Date): Promise<void> {
  await tx.insert(outbox).values({
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

/** Wakes every instance's relay: NOTIFY is delivered when the transaction commits. */
export async function signalOutbox(tx: Database): Promise<void> {
  await tx.execute(sql`select pg_notify('outbox', '')`);
}
