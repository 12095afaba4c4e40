/** Secure messaging: who may do what (one screen), the schemas and the handlers. */
import { z } from "@hono/zod-openapi";
import { createSelectSchema } from "drizzle-zod";
import { messages as table } from "../../db/schema.ts";
import { contextOf } from "../../middleware/service_context.ts";
import * as messages from "../../services/messages.ts";
import { page, pageOf, pageQuery, pageRequest } from "../_list.ts";
import { declareRoute, declareUpdate, jsonBody, jsonResponse, newRouter, problems } from "../_route.ts";
import { IdParam, idText, ownerField } from "../_schemas.ts";

const column = createSelectSchema(table).shape;
const Message = z.object({
  id: z.number().int(),
  sender: z.number().int(),
  receiver: z.number().int(),
  message_body: z.string(),
  sent_at: z.string(),
  read_status: z.boolean(),
  read_at: z.string().nullable(),
}).openapi("Message");
const MessageCreate = z.strictObject({
  sender: ownerField.optional().openapi({ description: "Always the caller: omit it or send your own id" }),
  receiver: ownerField,
  message_body: column.messageBody.min(1),
}).openapi("MessageCreate");
/** Only `read_status: true` changes anything; the rest may be echoed unchanged. */
const MessageChange = z.strictObject({
  read_status: z.boolean(),
  sender: ownerField.optional(),
  receiver: ownerField.optional(),
  message_body: z.string().max(5000).optional(),
});
const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["sent_at", "-sent_at", "id", "-id"]).optional()
    .openapi({ description: "Default: newest first; with `with`, the conversation in order" }),
  with: idText.optional().openapi({ description: "Only the conversation with this user, oldest first" }),
  unread: z.enum(["true", "false"]).optional().openapi({ description: "Only messages to the caller not read yet" }),
});
const Conversation = z.object({
  user: z.number().int(),
  name: z.string(),
  unread: z.number().int(),
  last_message: Message,
}).openapi("Conversation");

const read = { kind: "permission", permission: "messages:read", policy: "messages:party" } as const;
const write = { kind: "permission", permission: "messages:write", policy: "messages:party" } as const;
const TABLE = "messages";
const tags = ["messages"];

const conversations = declareRoute({
  method: "get",
  path: "/messages/conversations",
  operationId: "messages_conversations",
  tags,
  summary: "The caller's conversations: per counterpart, the last message and the unread count",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: z.object({ page_size: pageQuery.page_size }) },
  responses: { 200: jsonResponse("Conversations, latest first", z.array(Conversation)), ...problems(400, 401, 403) },
});
const list = declareRoute({
  method: "get",
  path: "/messages",
  operationId: "messages_list",
  tags,
  summary: "Messages the caller sent or received",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of messages", pageOf(Message)), ...problems(400, 401, 403) },
});
const get = declareRoute({
  method: "get",
  path: "/messages/{id}",
  operationId: "messages_read",
  tags,
  summary: "One message the caller sent or received",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The message", Message), ...problems(401, 403, 404) },
});
const create = declareRoute({
  method: "post",
  path: "/messages",
  operationId: "messages_create",
  tags,
  summary: "Send a message: patients to the doctors caring for them and to administrators; doctors to their " +
    "patients under care, other doctors and administrators; administrators to anyone",
  access: write,
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(MessageCreate),
  responses: { 201: jsonResponse("The message", Message), ...problems(400, 401, 403, 413, 415, 422) },
});
const [put, patch] = declareUpdate({
  path: "/messages/{id}",
  operationId: "messages",
  tags,
  summary: "Mark a received message read (the receiver only); a sent body never changes",
  access: read,
  audit: { action: "update", table: TABLE },
  params: IdParam,
  body: MessageChange,
  bodyName: "Message",
  responses: { 200: jsonResponse("The message", Message), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export function messageRoutes() {
  const app = newRouter();
  app.openapi(conversations, async (c) => {
    const rows = await messages.listConversations(contextOf(c), c.req.valid("query").page_size);
    return c.json(
      rows.map((r) => ({ user: r.counterpart, name: r.name, unread: r.unread, last_message: view(r.lastMessage) })),
      200,
    );
  });
  app.openapi(list, async (c) => {
    const { with: other, unread, ordering, ...q } = c.req.valid("query");
    const order = ordering ?? (other === undefined ? "-sent_at" : "sent_at");
    const slice = await messages.listMessages(
      contextOf(c),
      { with: other, unread: unread === "true" },
      pageRequest({ ...q, ordering: order }),
    );
    return c.json(page(c, slice, view), 200);
  });
  app.openapi(get, async (c) => c.json(view(await messages.readMessage(contextOf(c), c.req.valid("param").id)), 200));
  app.openapi(create, async (c) => {
    const row = await messages.sendMessage(contextOf(c, { respond: view }), c.req.valid("json"));
    return c.json(view(row), 201);
  });
  for (const route of [put, patch]) {
    app.openapi(route, async (c) => {
      return c.json(
        view(await messages.markMessageRead(contextOf(c), c.req.valid("param").id, c.req.valid("json"))),
        200,
      );
    });
  }
  return app;
}

function view(m: messages.MessageRow) {
  return {
    id: m.id,
    sender: m.senderId,
    receiver: m.receiverId,
    message_body: m.messageBody,
    sent_at: m.sentAt.toISOString(),
    read_status: m.readStatus,
    read_at: m.readAt?.toISOString() ?? null,
  };
}
