import { eq, inArray } from "drizzle-orm";
import type { Database } from "./client.ts";
import { notificationPreferences } from "./schema.ts";

export type PreferencesRow = typeof notificationPreferences.$inferSelect;

export async function findPreferences(db: Database, userId: number): Promise<PreferencesRow | undefined> {
  const [row] = await db.select().from(notificationPreferences).where(eq(notificationPreferences.userId, userId));
  return row;
}

export async function preferencesOf(db: Database, userIds: number[]): Promise<Map<number, PreferencesRow>> {
  if (userIds.length === 0) return new Map();
  const rows = await db.select().from(notificationPreferences).where(inArray(notificationPreferences.userId, userIds));
  return new Map(rows.map((r) => [r.userId, r]));
}

/** Replaces a user's preferences (the caller's own: a user id from the session, never the body). */
export async function savePreferences(
  tx: Database,
  userId: number,
  values: Pick<PreferencesRow, "channels" | "quietStart" | "quietEnd" | "timeZone">,
  now: Date,
): Promise<PreferencesRow> {
  const [row] = await tx.insert(notificationPreferences).values({ userId, ...values, updatedAt: now })
    .onConflictDoUpdate({ target: notificationPreferences.userId, set: { ...values, updatedAt: now } })
    .returning();
  return row;
}
