import { assert, assertEquals } from "@std/assert";
import { count } from "drizzle-orm";
import { messages, notifications } from "../db/schema.ts";
import { relayOnce } from "../services/notification_relay.ts";
import { appTest, type TestApp } from "./_fixtures.ts";
import { careCircle } from "./_care.ts";

const messageCount = async (api: TestApp) => (await api.db.select({ n: count() }).from(messages))[0].n;
const send = (api: TestApp, token: string, body: Record<string, unknown>) =>
  api.request("POST", "/messages/", { token, body });

appTest(
  "a patient writes to their doctor; the doctor reads it, marks it read, and the receiver is notified without the body",
  async (_t, api) => {
    const { patient, doctor, tokens } = await careCircle(api);
    const sent = await send(api, tokens.patient, {
      receiver: doctor.id,
      message_body: "My rash is worse since the new pills",
    });
    assertEquals([sent.status, sent.body.sender, sent.body.read_status], [201, patient.id, false]);
    await relayOnce(api.deps);
    const [note] = await api.db.select().from(notifications);
    assertEquals([note.userId, note.type, note.title], [doctor.id, "message", "New message"]);
    assert(note.message.startsWith("New message from ") && !note.message.includes("rash"), note.message);
    const id = sent.body.id as number;
    assertEquals((await api.request("GET", `/messages/${id}/`, { token: tokens.doctor })).status, 200);
    const byPatient = await api.request("PATCH", `/messages/${id}/`, {
      token: tokens.patient,
      body: { read_status: true },
    });
    assertEquals(byPatient.status, 403, "only the receiver marks it read");
    const read = await api.request("PATCH", `/messages/${id}/`, { token: tokens.doctor, body: { read_status: true } });
    assertEquals([read.status, read.body.read_status, typeof read.body.read_at], [200, true, "string"]);
    const edit = await api.request("PATCH", `/messages/${id}/`, {
      token: tokens.doctor,
      body: { read_status: true, message_body: "something else" },
    });
    assertEquals(edit.status, 422, "a sent body never changes");
  },
);

appTest("the sender is always the caller: another sender is 422 and nothing is sent", async (_t, api) => {
  const { patient, other, doctor, tokens } = await careCircle(api);
  const spoofed = await send(api, tokens.patient, { sender: other.id, receiver: doctor.id, message_body: "hi" });
  assertEquals([spoofed.status, (spoofed.body.errors as { pointer: string }[])[0].pointer], [422, "/sender"]);
  assertEquals(
    (await send(api, tokens.patient, { sender: patient.id, receiver: doctor.id, message_body: "hi" })).status,
    201,
  );
  assertEquals(await messageCount(api), 1);
});

appTest("messaging outside care is 403 with one reason that reveals nothing, and sends nothing", async (_t, api) => {
  const { other, stranger, colleague, patient, tokens } = await careCircle(api);
  const refused: [string, Record<string, unknown>][] = [
    [tokens.patient, { receiver: stranger.id, message_body: "a doctor not caring for me" }],
    [tokens.patient, { receiver: other.id, message_body: "another patient" }],
    [tokens.stranger, { receiver: patient.id, message_body: "not my patient" }],
    [tokens.patient, { receiver: 999999, message_body: "nobody" }],
  ];
  const bodies = new Set<string>();
  for (const [token, body] of refused) {
    const res = await send(api, token, body);
    assertEquals(res.status, 403, JSON.stringify(body));
    bodies.add(JSON.stringify({ ...res.body, request_id: null }));
  }
  assertEquals(bodies.size, 1, "the same answer whatever the reason");
  assertEquals(await messageCount(api), 0);
  // Doctors write to other doctors; a caring colleague to the patient.
  assertEquals((await send(api, tokens.stranger, { receiver: colleague.id, message_body: "consult?" })).status, 201);
  assertEquals((await send(api, tokens.colleague, { receiver: patient.id, message_body: "see you" })).status, 201);
});

appTest("a conversation reads in order for its two parties, and a third party sees none of it", async (_t, api) => {
  const { patient, doctor, other, tokens } = await careCircle(api);
  for (let i = 0; i < 3; i++) {
    await send(api, tokens.patient, { receiver: doctor.id, message_body: `question ${i}` });
    await send(api, tokens.doctor, { receiver: patient.id, message_body: `answer ${i}` });
  }
  await send(api, tokens.doctor, { receiver: other.id, message_body: "for someone else" });
  const thread = await api.request("GET", `/messages/?with=${doctor.id}`, { token: tokens.patient });
  const bodies = (thread.body.results as { message_body: string }[]).map((m) => m.message_body);
  assertEquals(bodies, ["question 0", "answer 0", "question 1", "answer 1", "question 2", "answer 2"]);
  const conversations = await api.request("GET", "/messages/conversations/", { token: tokens.doctor });
  const summary =
    (conversations.body as unknown as { user: number; unread: number; last_message: { message_body: string } }[])
      .map((c) => [c.user, c.unread, c.last_message.message_body]);
  assertEquals(summary, [[other.id, 0, "for someone else"], [patient.id, 3, "answer 2"]]);
  const snooping = await api.request("GET", `/messages/?with=${doctor.id}`, { token: tokens.other });
  assertEquals((snooping.body.results as { receiver: number }[]).map((m) => m.receiver), [other.id]);
  const someoneElses = (thread.body.results as { id: number }[])[0].id;
  assertEquals((await api.request("GET", `/messages/${someoneElses}/`, { token: tokens.other })).status, 404);
});
