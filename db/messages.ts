import { and, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import { queryRows } from "./client.ts";
import { type PolicyOf, underCareOf } from "./policies.ts";
import { doctorProfiles, messages, patientProfiles, roles, userRoles, users } from "./schema.ts";
import { type InScope, inScopeRow, restrict, type Scope } from "./scope.ts";

export type MessageRow = typeof messages.$inferSelect;
type MessageScope = Scope<PolicyOf<"messages">>;

export const MESSAGE_ORDERINGS = {
  sent_at: { column: messages.sentAt, value: (r: MessageRow) => r.sentAt },
  id: { column: messages.id, value: (r: MessageRow) => r.id },
};
export const MESSAGE_ID = { column: messages.id, value: (r: MessageRow) => r.id };

/** Messages in the caller's scope; `with` narrows to one conversation (both directions). */
export function listMessages(
  db: Database,
  scope: MessageScope,
  query: { with?: number; unread?: boolean; where?: SQL; orderBy: SQL[]; limit: number },
): Promise<MessageRow[]> {
  const conversation = query.with === undefined ? undefined : or(
    and(eq(messages.senderId, scope.actor), eq(messages.receiverId, query.with)),
    and(
      eq(messages.senderId, query.with),
      eq(messages.receiverId, scope.actor),
    ),
  );
  return db.select().from(messages)
    .where(and(
      restrict(scope),
      conversation,
      query.unread ? and(eq(messages.receiverId, scope.actor), eq(messages.readStatus, false)) : undefined,
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

export async function findMessage(
  db: Database,
  scope: MessageScope,
  id: number,
  options: { lock?: boolean } = {},
): Promise<InScope<MessageRow> | undefined> {
  const query = db.select().from(messages).where(and(eq(messages.id, id), restrict(scope)));
  const [row] = options.lock ? await query.for("update") : await query;
  return inScopeRow(row);
}

export async function insertMessage(
  tx: Database,
  values: { senderId: number; receiverId: number; messageBody: string },
  now: Date,
): Promise<MessageRow> {
  const [row] = await tx.insert(messages).values({ ...values, sentAt: now }).returning();
  return row;
}

export async function markRead(tx: Database, row: InScope<MessageRow>, now: Date): Promise<MessageRow> {
  const [updated] = await tx.update(messages).set({ readStatus: true, readAt: row.readAt ?? now })
    .where(eq(messages.id, row.id)).returning();
  return updated;
}

/** What decides whether `sender` may write to `receiver`: their roles and care relations, in one query. */
export interface Relation {
  receiverExists: boolean;
  receiverActive: boolean;
  receiverRoles: string[];
  senderCaresForReceiver: boolean;
  receiverCaresForSender: boolean;
}

export async function relationBetween(db: Database, sender: number, receiver: number): Promise<Relation> {
  const [row] = await queryRows<{
    exists: boolean;
    active: boolean;
    roles: string[] | null;
    sender_cares: boolean;
    receiver_cares: boolean;
  }>(
    db,
    sql`select (u.id is not null) as exists, coalesce(u.account_status = 'active', false) as active,
      (select array_agg(r.role_name) from ${userRoles} ur join ${roles} r on r.id = ur.role_id where ur.user_id = ${receiver}) as roles,
      ${underCareOf(sender, sql`${receiver}::integer`)} as sender_cares,
      ${underCareOf(receiver, sql`${sender}::integer`)} as receiver_cares
    from (select 1) one left join ${users} u on u.id = ${receiver}`,
  );
  return {
    receiverExists: Boolean(row.exists),
    receiverActive: Boolean(row.active),
    receiverRoles: row.roles ?? [],
    senderCaresForReceiver: Boolean(row.sender_cares),
    receiverCaresForSender: Boolean(row.receiver_cares),
  };
}

export interface ConversationRow {
  counterpart: number;
  name: string;
  lastMessage: MessageRow;
  unread: number;
}

/** Per counterpart of the caller: the last message either way and how many of theirs are unread. One query. */
export async function conversations(db: Database, scope: MessageScope, limit: number): Promise<ConversationRow[]> {
  const me = scope.actor;
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`with mine as (
      select ${messages}.*,
        case when ${messages.senderId} = ${me} then ${messages.receiverId} else ${messages.senderId} end as counterpart
      from ${messages} where ${and(restrict(scope), or(eq(messages.senderId, me), eq(messages.receiverId, me)))}
    ), last as (
      select distinct on (counterpart) * from mine order by counterpart, sent_at desc, id desc
    )
    select last.*, (select count(*)::int from mine where mine.counterpart = last.counterpart
        and mine.receiver_id = ${me} and not mine.read_status) as unread,
      coalesce(nullif(btrim(concat_ws(' ', dp.first_name, dp.last_name)), ''),
        nullif(btrim(concat_ws(' ', pp.first_name, pp.last_name)), ''), u.username) as name,
      (dp.user_id is not null) as is_doctor
    from last join ${users} u on u.id = last.counterpart
    left join ${doctorProfiles} dp on dp.user_id = last.counterpart
    left join ${patientProfiles} pp on pp.user_id = last.counterpart
    order by last.sent_at desc, last.id desc limit ${limit}`,
  );
  return rows.map((r) => ({
    counterpart: Number(r.counterpart),
    name: (r.is_doctor ? "Dr. " : "") + String(r.name),
    unread: Number(r.unread),
    lastMessage: {
      id: Number(r.id),
      senderId: Number(r.sender_id),
      receiverId: Number(r.receiver_id),
      messageBody: String(r.message_body),
      sentAt: new Date(r.sent_at as string),
      readStatus: Boolean(r.read_status),
      readAt: r.read_at ? new Date(r.read_at as string) : null,
    },
  }));
}

/** Display names (a doctor's with "Dr."), for notifications that name someone. */
export async function displayNames(db: Database, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({
    id: users.id,
    username: users.username,
    doctor: sql<
      string | null
    >`nullif(btrim(concat_ws(' ', ${doctorProfiles.firstName}, ${doctorProfiles.lastName})), '')`,
    patient: sql<
      string | null
    >`nullif(btrim(concat_ws(' ', ${patientProfiles.firstName}, ${patientProfiles.lastName})), '')`,
  }).from(users)
    .leftJoin(doctorProfiles, eq(doctorProfiles.userId, users.id))
    .leftJoin(patientProfiles, eq(patientProfiles.userId, users.id))
    .where(inArray(users.id, ids));
  return new Map(rows.map((r) => [r.id, r.doctor ? `Dr. ${r.doctor}` : r.patient ?? r.username]));
}
