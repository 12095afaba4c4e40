import { and, asc, count, eq, gt, inArray, type SQL, sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import type { PolicyOf } from "./policies.ts";
import { notifications } from "./schema.ts";
import { type InScope, inScopeRow, restrict, type Scope } from "./scope.ts";

export type NotificationRow = typeof notifications.$inferSelect;
export const NOTIFICATION_TYPES = [
  "appointment",
  "payment",
  "prescription",
  "lab_result",
  "message",
  "general",
] as const;
export type NotificationType = typeof NOTIFICATION_TYPES[number];
type NotificationScope = Scope<PolicyOf<"notifications">>;

export interface NewNotification {
  userId: number;
  type: NotificationType;
  title: string;
  message: string;
  outboxId?: number;
}

export const NOTIFICATION_ORDERINGS = {
  id: { column: notifications.id, value: (r: NotificationRow) => r.id },
};
export const NOTIFICATION_ID = NOTIFICATION_ORDERINGS.id;

export function listNotifications(
  db: Database,
  scope: NotificationScope,
  query: { status?: string; type?: string; where?: SQL; orderBy: SQL[]; limit: number },
): Promise<NotificationRow[]> {
  return db.select().from(notifications)
    .where(and(
      restrict(scope),
      query.status === undefined ? undefined : eq(notifications.status, query.status),
      query.type === undefined ? undefined : eq(notifications.type, query.type),
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

export async function unreadCount(db: Database, scope: NotificationScope): Promise<number> {
  const [row] = await db.select({ n: count() }).from(notifications)
    .where(and(restrict(scope), eq(notifications.status, "unread")));
  return Number(row.n);
}

export async function findNotification(
  db: Database,
  scope: NotificationScope,
  id: number,
  options: { lock?: boolean } = {},
): Promise<InScope<NotificationRow> | undefined> {
  const query = db.select().from(notifications).where(and(eq(notifications.id, id), restrict(scope)));
  const [row] = options.lock ? await query.for("update") : await query;
  return inScopeRow(row);
}

export async function markNotification(
  db: Database,
  row: InScope<NotificationRow>,
  status: "unread" | "read",
  now: Date,
): Promise<NotificationRow> {
  const [updated] = await db.update(notifications)
    .set({ status, readAt: status === "read" ? (row.readAt ?? now) : null })
    .where(eq(notifications.id, row.id)).returning();
  return updated;
}

/** First key of the per-user advisory locks notification writers take (the second is the user id). */
const NOTIFICATION_LOCK_SPACE = 0x4e4f54; // "NOT"

/**
 * Inserts notifications and tells every instance's stream (NOTIFY on commit). One per event and
 * user: a relay that ran an event twice would add nothing the second time.
 */
export async function insertNotifications(tx: Database, rows: NewNotification[], now: Date) {
  if (rows.length === 0) return [];
  // A stream sends what lies above the last id it sent, so a user's ids must become visible in
  // order: two writers (relays of two instances, an administrator's POST) could otherwise commit a
  // higher id first and the stream would step over the lower one for good. Writers for one user
  // take turns until commit, in ascending user order so two of them cannot deadlock. The caller
  // runs in a transaction (the lock is the transaction's).
  for (const userId of [...new Set(rows.map((r) => r.userId))].sort((a, b) => a - b)) {
    await tx.execute(sql`select pg_advisory_xact_lock(${NOTIFICATION_LOCK_SPACE}, ${userId})`);
  }
  const inserted = await tx.insert(notifications)
    .values(rows.map((r) => ({ ...r, createdAt: now })))
    .onConflictDoNothing({ target: [notifications.outboxId, notifications.userId] })
    .returning();
  for (const userId of new Set(inserted.map((n) => n.userId))) {
    await tx.execute(sql`select pg_notify('notifications', ${String(userId)})`);
  }
  return inserted;
}

/** A user's notifications after `afterId`, oldest first (the stream's replay and live delivery). */
export function notificationsAfter(db: Database, userId: number, afterId: number, limit = 200) {
  return db.select().from(notifications)
    .where(and(eq(notifications.userId, userId), gt(notifications.id, afterId)))
    .orderBy(asc(notifications.id))
    .limit(limit);
}

/** The newest notification id of a user (where a stream with no Last-Event-ID starts). */
export async function latestNotificationId(db: Database, userId: number): Promise<number> {
  const [row] = await db.select({ id: sql<number>`coalesce(max(${notifications.id}), 0)` }).from(notifications)
    .where(eq(notifications.userId, userId));
  return Number(row.id);
}

export async function notificationsOf(db: Database, ids: number[]) {
  return ids.length ? await db.select().from(notifications).where(inArray(notifications.id, ids)) : [];
}
