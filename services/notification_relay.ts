/**
 * The relay: turns outbox events into notifications for the people concerned, exactly once even
 * with several instances (each batch is claimed with FOR UPDATE SKIP LOCKED, and the notifications
 * and the "processed" mark commit together; a unique key on event and user is the backstop). A
 * notification its user wants by e-mail becomes a `mail.notification` event, sent on its own
 * (held back by quiet hours), with an integration-log row for every attempt.
 */
import type { Database } from "../db/client.ts";
import { insertIntegrationLog } from "../db/integration_logs.ts";
import { displayNames } from "../db/messages.ts";
import { insertNotifications, type NotificationType } from "../db/notifications.ts";
import { claimEvents, deferEvent, insertOutboxEvent, markProcessed } from "../db/outbox.ts";
import { preferencesOf, type PreferencesRow } from "../db/preferences.ts";
import { ownAccount } from "../db/users.ts";
import type { AppDeps } from "./deps.ts";
import { mailFor, peopleOf, plan } from "./notification_plans.ts";
import { mailableAt } from "./quiet_hours.ts";

const MAIL = "mail.notification";

/** Relays one batch of events; returns how many it took (0: nothing pending). */
export function relayOnce(deps: Pick<AppDeps, "db" | "clock">, batch = 100): Promise<number> {
  return deps.db.transaction(async (tx) => {
    const db = tx as unknown as Database;
    const now = deps.clock();
    const events = await claimEvents(db, now, batch, { except: [MAIL] });
    if (events.length === 0) return 0;
    const names = await displayNames(db, [
      ...new Set(events.flatMap((e) => peopleOf(e.payload as Record<string, unknown>))),
    ]);
    const planned = events.flatMap((e) =>
      plan({ topic: e.topic, payload: e.payload as Record<string, unknown>, names }).map((n) => ({
        ...n,
        outboxId: e.id,
      }))
    );
    const inserted = await insertNotifications(db, planned, now);
    const preferences = await preferencesOf(db, [...new Set(inserted.map((n) => n.userId))]);
    for (const n of inserted) {
      const prefs = preferences.get(n.userId);
      if (!wantsMail(prefs, n.type as NotificationType)) continue;
      const quiet = prefs?.quietStart
        ? { start: prefs.quietStart, end: prefs.quietEnd!, timeZone: prefs.timeZone }
        : null;
      const payload = { notification: n.id, user: n.userId, type: n.type };
      await insertOutboxEvent(db, { topic: MAIL, payload, availableAt: mailableAt(now, quiet) }, now);
    }
    await markProcessed(db, events.map((e) => e.id), now);
    return events.length;
  });
}

/** Every notification shows in the portal; e-mail is a choice per category (off unless chosen). */
function wantsMail(prefs: PreferencesRow | undefined, type: NotificationType): boolean {
  const channels = (prefs?.channels ?? {}) as Record<string, { email?: boolean }>;
  return channels[type]?.email === true;
}

/**
 * Sends due notification e-mails, one event per transaction: the mail, its integration-log row and
 * the "processed" mark; a failed send is logged and retried later with a growing pause. (A crash
 * between sending and committing sends that mail again: mail is at-least-once.)
 */
export async function mailOnce(deps: Pick<AppDeps, "db" | "clock" | "mailer">): Promise<number> {
  return await deps.db.transaction(async (tx) => {
    const db = tx as unknown as Database;
    const now = deps.clock();
    const [event] = await claimEvents(db, now, 1, { only: [MAIL] });
    if (!event) return 0;
    const { user, type } = event.payload as { user: number; type: NotificationType };
    const account = await ownAccount(db, user);
    const log = {
      systemName: `mail:${deps.mailer.transport}`,
      dataType: "notification",
      dataReference: `user:${user}`,
    };
    if (!account || account.accountStatus !== "active") {
      await markProcessed(db, [event.id], now);
      return 1;
    }
    const started = performance.now();
    try {
      await deps.mailer.send({ to: account.email, ...mailFor(type) });
      await insertIntegrationLog(db, {
        ...log,
        syncStatus: "success",
        detail: `sent in ${Math.round(performance.now() - started)} ms`,
      }, now);
      await markProcessed(db, [event.id], now);
    } catch (e) {
      const detail = String((e as Error)?.message ?? e).slice(0, 500);
      await insertIntegrationLog(db, { ...log, syncStatus: "failed", detail }, now);
      const pause = Math.min(3600_000, 30_000 * 2 ** event.attempts);
      await deferEvent(db, event.id, new Date(now.getTime() + pause));
    }
    return 1;
  });
}
