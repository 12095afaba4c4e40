/**
 * Secure messaging: the sender is always the caller; sender and receiver read a message, only the
 * receiver marks it read, and nobody edits a sent body (a correction is a new message). A new
 * message notifies its receiver without its body.
 */
import * as repo from "../db/messages.ts";
import { Forbidden, invalid, NotFound } from "../errors.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { mayMessage } from "./message_rules.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";

export type { ConversationRow, MessageRow } from "../db/messages.ts";
type MessageRow = repo.MessageRow;

/** The same refusal whatever the reason, so it tells nothing about a stranger's records. */
const NOT_ALLOWED = "You cannot send messages to this user";

export function sendMessage(
  ctx: ServiceContext,
  input: { sender?: number; receiver: number; message_body: string },
): Promise<MessageRow> {
  const me = actorOf(ctx);
  return ctx.uow.write(async (tx, effects) => {
    if (input.sender !== undefined && input.sender !== me.userId) throw invalid("/sender", "Must be your own user id");
    if (input.receiver === me.userId) throw invalid("/receiver", "Must be someone else");
    if (!mayMessage(me.roles, await repo.relationBetween(tx, me.userId, input.receiver))) {
      throw new Forbidden(NOT_ALLOWED);
    }
    const message = await repo.insertMessage(tx, {
      senderId: me.userId,
      receiverId: input.receiver,
      messageBody: input.message_body,
    }, ctx.now);
    await effects.emit({
      topic: "message.sent",
      payload: { message: message.id, sender: me.userId, receiver: input.receiver },
    });
    return { result: message, rowIds: [message.id], details: { receiver: input.receiver } };
  });
}

/** The caller's messages, newest first; with `with`, one conversation in the order it was written. */
export function listMessages(
  ctx: ServiceContext,
  filters: { with?: number; unread?: boolean },
  page: PageRequest,
): Promise<Slice<MessageRow>> {
  const scope = scopeOf(ctx, "messages");
  const pager = keyset(page, repo.MESSAGE_ORDERINGS, repo.MESSAGE_ID, ctx.deps.tokens.keys.cursorKey);
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await repo.listMessages(db, scope, { ...filters, ...pager }));
    return { result: slice, rowIds: slice.rows.map((m) => m.id), details: { with: filters.with ?? null } };
  });
}

/** Per counterpart: the last message either way and the number unread. */
export function listConversations(ctx: ServiceContext, limit: number) {
  const scope = scopeOf(ctx, "messages");
  return ctx.uow.read(async (db) => {
    const rows = await repo.conversations(db, scope, limit);
    return { result: rows, rowIds: rows.map((r) => r.lastMessage.id) };
  });
}

export function readMessage(ctx: ServiceContext, id: number): Promise<MessageRow> {
  const scope = scopeOf(ctx, "messages");
  return ctx.uow.read(async (db) => {
    const found = await repo.findMessage(db, scope, id);
    if (!found) throw new NotFound();
    return { result: found, rowIds: [id] };
  });
}

/** The receiver marks a message read; the body of a sent message never changes. */
export function markMessageRead(
  ctx: ServiceContext,
  id: number,
  change: { read_status?: boolean; message_body?: string; sender?: number; receiver?: number },
): Promise<MessageRow> {
  const me = actorOf(ctx).userId;
  const scope = scopeOf(ctx, "messages");
  return ctx.uow.write(async (tx) => {
    const found = await repo.findMessage(tx, scope, id, { lock: true });
    if (!found) throw new NotFound();
    if (change.message_body !== undefined && change.message_body !== found.messageBody) {
      throw invalid("/message_body", "A sent message cannot be edited; send a correction as a new message");
    }
    if (change.sender !== undefined && change.sender !== found.senderId) throw invalid("/sender", "Cannot be changed");
    if (change.receiver !== undefined && change.receiver !== found.receiverId) {
      throw invalid("/receiver", "Cannot be changed");
    }
    if (change.read_status === false) throw invalid("/read_status", "A message read stays read");
    if (change.read_status !== true) return { result: found, rowIds: [id] };
    if (found.receiverId !== me) throw new Forbidden("Only the receiver marks a message read");
    return { result: await repo.markRead(tx, found, ctx.now), rowIds: [id], details: { read: true } };
  });
}
