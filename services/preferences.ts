/** A user's notification preferences: which categories also go by e-mail, and quiet hours. */
import { findPreferences, savePreferences } from "../db/preferences.ts";
import { NOTIFICATION_TYPES, type NotificationType } from "../db/notifications.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";

export interface Preferences {
  channels: Record<NotificationType, { in_app: true; email: boolean }>;
  quiet_hours: { start: string; end: string } | null;
  time_zone: string;
}

function shape(row: Awaited<ReturnType<typeof findPreferences>>): Preferences {
  const stored = (row?.channels ?? {}) as Record<string, { email?: boolean }>;
  const channels = Object.fromEntries(
    NOTIFICATION_TYPES.map((t) => [t, { in_app: true as const, email: stored[t]?.email === true }]),
  ) as Preferences["channels"];
  const quiet = row?.quietStart ? { start: row.quietStart, end: row.quietEnd! } : null;
  return { channels, quiet_hours: quiet, time_zone: row?.timeZone ?? "UTC" };
}

export function myPreferences(ctx: ServiceContext): Promise<Preferences> {
  const { userId } = actorOf(ctx);
  scopeOf(ctx, "notification_preferences");
  return ctx.uow.read(async (db) => ({ result: shape(await findPreferences(db, userId)), rowIds: [userId] }));
}

/** Replaces the caller's preferences (every notification also shows in the portal; e-mail is the choice). */
export function setMyPreferences(
  ctx: ServiceContext,
  input: { email: NotificationType[]; quiet_hours: { start: string; end: string } | null; time_zone: string },
): Promise<Preferences> {
  const { userId } = actorOf(ctx);
  scopeOf(ctx, "notification_preferences");
  return ctx.uow.write(async (tx) => {
    const channels = Object.fromEntries(input.email.map((t) => [t, { email: true }]));
    const row = await savePreferences(tx, userId, {
      channels,
      quietStart: input.quiet_hours?.start ?? null,
      quietEnd: input.quiet_hours?.end ?? null,
      timeZone: input.time_zone,
    }, ctx.now);
    return { result: shape(row), rowIds: [userId], details: { email: input.email } };
  });
}
