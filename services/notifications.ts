/**
 * Notifications: each user lists, reads and marks their own (`notifications:self`; nobody reads
 * another's, administrators included); an administrator writes one for a user. The stream reads
 * through the same scope.
 */
import * as repo from "../db/notifications.ts";
import { loadPrincipal } from "./sessions.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { invalid, NotFound } from "../errors.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";
import { ownAccount } from "../db/users.ts";

export type { NotificationRow, NotificationType } from "../db/notifications.ts";
export { NOTIFICATION_TYPES } from "../db/notifications.ts";
type NotificationRow = repo.NotificationRow;

export function listNotifications(
  ctx: ServiceContext,
  filters: { status?: string; type?: string },
  page: PageRequest,
): Promise<Slice<NotificationRow> & { unread: number }> {
  const scope = scopeOf(ctx, "notifications");
  const pager = keyset(
    { ...page, ordering: page.ordering ?? "-id" },
    repo.NOTIFICATION_ORDERINGS,
    repo.NOTIFICATION_ID,
    ctx.deps.tokens.keys.cursorKey,
  );
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await repo.listNotifications(db, scope, { ...filters, ...pager }));
    const unread = await repo.unreadCount(db, scope);
    return { result: { ...slice, unread }, rowIds: slice.rows.map((n) => n.id) };
  });
}

export function unreadCount(ctx: ServiceContext): Promise<number> {
  const scope = scopeOf(ctx, "notifications");
  return ctx.uow.read(async (db) => ({ result: await repo.unreadCount(db, scope) }));
}

export function readNotification(ctx: ServiceContext, id: number): Promise<NotificationRow> {
  const scope = scopeOf(ctx, "notifications");
  return ctx.uow.read(async (db) => {
    const found = await repo.findNotification(db, scope, id);
    if (!found) throw new NotFound();
    return { result: found, rowIds: [id] };
  });
}

/** Only the status changes (read or unread again). */
export function markNotification(ctx: ServiceContext, id: number, status: "read" | "unread"): Promise<NotificationRow> {
  const scope = scopeOf(ctx, "notifications");
  return ctx.uow.write(async (tx) => {
    const found = await repo.findNotification(tx, scope, id, { lock: true });
    if (!found) throw new NotFound();
    return { result: await repo.markNotification(tx, found, status, ctx.now), rowIds: [id], details: { status } };
  });
}

/** An administrator writes a notification to a user (an active account). */
export function sendNotification(
  ctx: ServiceContext,
  input: { user: number; type: repo.NotificationType; title: string; message: string },
): Promise<NotificationRow> {
  return ctx.uow.write(async (tx) => {
    const account = await ownAccount(tx, input.user);
    if (!account || account.accountStatus !== "active") throw invalid("/user", "No active user with this id");
    const [created] = await repo.insertNotifications(tx, [{ ...input, userId: input.user }], ctx.now);
    return { result: created, rowIds: [created.id], details: { to: input.user, type: input.type } };
  });
}

/**
 * Where a caller's stream starts: after `lastEventId` (replaying what came after it), or after
 * their newest notification (live only). Opening a stream is recorded as a read of the list.
 */
export function streamStart(ctx: ServiceContext, lastEventId: number | undefined): Promise<number> {
  const { userId } = actorOf(ctx);
  scopeOf(ctx, "notifications");
  return ctx.uow.read(async (db) => ({
    result: lastEventId ?? await repo.latestNotificationId(db, userId),
    details: { stream: true, last_event_id: lastEventId ?? null },
  }));
}

/** The caller's notifications after `afterId`, oldest first (a page of them). */
export function newSince(ctx: ServiceContext, afterId: number): Promise<NotificationRow[]> {
  return repo.notificationsAfter(ctx.deps.db, actorOf(ctx).userId, afterId);
}

/** Whether the session the stream was opened with is still live (logout, reset and suspension end it). */
export async function sessionLive(ctx: ServiceContext): Promise<boolean> {
  const actor = actorOf(ctx);
  return (await loadPrincipal(ctx.deps.db, actor.userId, actor.sessionId, ctx.deps.clock())) !== null;
}
