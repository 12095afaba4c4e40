import { assert, assertEquals } from "@std/assert";
import { notifications } from "../db/schema.ts";
import { insertNotifications } from "../db/notifications.ts";
import { type Actor, appTest, type TestApp } from "./_fixtures.ts";
import { readSse } from "./_sse.ts";

const STREAM = { env: { STREAM_HEARTBEAT_SECONDS: "1", STREAM_SESSION_CHECK_MS: "100" } };

async function notify(api: TestApp, userId: number, n: number) {
  const rows = Array.from(
    { length: n },
    (_, i) => ({ userId, type: "general" as const, title: `t${i}`, message: `m${i}` }),
  );
  return await insertNotifications(api.db, rows, api.clock.now());
}

appTest(
  "GET /notifications/stream/ sends each new notification live, as `notification` events with its id",
  async (_t, api) => {
    const alice = await api.makePatient();
    const token = (await api.signIn(alice)).access;
    const res = await api.raw("/notifications/stream/", { token });
    assertEquals([res.status, res.headers.get("content-type")?.split(";")[0]], [200, "text/event-stream"]);
    const stream = readSse(res);
    const [sent] = await notify(api, alice.id, 1);
    const event = await stream.next();
    assertEquals([event?.event, event?.id], ["notification", String(sent.id)]);
    assertEquals(JSON.parse(event!.data).title, "t0");
    await stream.close();
  },
  STREAM,
);

appTest("Last-Event-ID replays what came after it, once each and in order, then goes live", async (_t, api) => {
  const alice = await api.makePatient();
  const token = (await api.signIn(alice)).access;
  const first = await notify(api, alice.id, 3);
  // Disconnected: five more arrive meanwhile.
  const missed = await notify(api, alice.id, 5);
  for (const how of ["header", "query"] as const) {
    const res = how === "header"
      ? await api.raw("/notifications/stream/", { token, headers: { "last-event-id": String(first[2].id) } })
      : await api.raw(`/notifications/stream/?last_event_id=${first[2].id}`, { token });
    const stream = readSse(res);
    const replayed = [];
    for (let i = 0; i < missed.length; i++) replayed.push(Number((await stream.next())!.id));
    assertEquals(replayed, missed.map((n) => n.id), how);
    const [live] = await notify(api, alice.id, 1);
    assertEquals(Number((await stream.next())!.id), live.id);
    await stream.close();
    // The next reconnection from the same point also gets the one that came live.
    missed.push(live);
  }
}, STREAM);

appTest("another user's notifications never appear on a stream", async (_t, api) => {
  const [alice, bob] = [await api.makePatient(), await api.makePatient()];
  const stream = readSse(await api.raw("/notifications/stream/", { token: (await api.signIn(alice)).access }));
  const mine: number[] = [];
  for (let round = 0; round < 30; round++) {
    await notify(api, bob.id, 9);
    mine.push(...(await notify(api, alice.id, 1)).map((n) => n.id));
  }
  const seen: number[] = [];
  while (seen.length < mine.length) seen.push(Number((await stream.next())!.id));
  assertEquals(seen, mine, "exactly alice's 30 of 300, in order");
  await stream.close();
  assertEquals((await api.db.select().from(notifications)).length, 300);
}, STREAM);

appTest(
  "the stream sends heartbeats and closes when its session ends, though the access token is gone",
  async (_t, api) => {
    const alice = await api.makePatient();
    const { access } = await api.signIn(alice);
    const anonymous = await api.raw("/notifications/stream/");
    assertEquals(anonymous.status, 401);
    await anonymous.body?.cancel();
    const stream = readSse(await api.raw(`/notifications/stream/?access_token=${access}`));
    assertEquals(stream.status, 200);
    await new Promise((r) => setTimeout(r, 1300));
    assert(stream.comments.includes("heartbeat"), `comments: ${stream.comments}`);
    // The access token expires; the session does not: the stream stays.
    api.clock.advance(3600);
    await notify(api, alice.id, 1);
    assertEquals((await stream.next())?.event, "notification");
    const logout = await api.request("POST", "/logout/", { token: access });
    assertEquals(logout.status, 401, "the token itself has expired");
    api.clock.advance(-3600);
    assertEquals((await api.request("POST", "/logout/", { token: access })).status, 204);
    assertEquals(await stream.next(3000), null, "the stream ended with the session");
  },
  STREAM,
);

/** The reset token from the last mail the file transport wrote. */
async function resetTokenFromMail(api: TestApp): Promise<string> {
  const match = (await api.mails()).at(-1)?.match(/reset-password\/\?token=([^\s]+)/);
  assert(match, "a reset link was mailed");
  return decodeURIComponent(match[1]);
}

/** Opens a stream and checks it is live: a notification arrives on it. */
async function liveStream(api: TestApp, user: Actor, token: string) {
  const stream = readSse(await api.raw("/notifications/stream/", { token }));
  assertEquals(stream.status, 200);
  await notify(api, user.id, 1);
  assertEquals((await stream.next())?.event, "notification");
  return stream;
}

appTest("the stream closes within a few seconds when a password reset ends its session", async (_t, api) => {
  const alice = await api.makePatient();
  const { access } = await api.signIn(alice);
  const stream = await liveStream(api, alice, access);
  assertEquals((await api.request("POST", "/forgot-password/", { body: { email: alice.email } })).status, 202);
  const token = await resetTokenFromMail(api);
  assertEquals(stream.ended, false, "asking for a reset link ends nothing");
  const reset = await api.request("POST", "/reset-password/", {
    body: { token, new_password: "a brand new passphrase 42" },
  });
  assertEquals(reset.status, 204, reset.text);
  assertEquals(await stream.next(3000), null, "the stream ended with the session");
}, STREAM);

appTest(
  "the stream closes within a few seconds when the account is suspended, by an administrator or in the table",
  async (t, api) => {
    const [alice, admin] = [await api.makePatient(), await api.makeAdmin()];
    const adminToken = (await api.signIn(admin)).access;
    await t.step("an administrator suspends the account (its sessions are revoked)", async () => {
      const stream = await liveStream(api, alice, (await api.signIn(alice)).access);
      const res = await api.request("PATCH", `/users/${alice.id}/`, {
        token: adminToken,
        body: { account_status: "suspended" },
      });
      assertEquals([res.status, res.body.account_status], [200, "suspended"]);
      assertEquals(await stream.next(3000), null, "the stream ended with the suspension");
    });
    await t.step("the status alone, with the session left unrevoked, also ends the stream", async () => {
      await api.setStatus(alice, "active");
      const stream = await liveStream(api, alice, (await api.signIn(alice)).access);
      await api.setStatus(alice, "suspended");
      assertEquals(await stream.next(3000), null, "the stream ended with the suspension");
    });
    // The administrator's own stream is untouched.
    await liveStream(api, admin, adminToken).then((s) => s.close());
  },
  STREAM,
);

appTest(
  "a user's notification ids become visible in order: a second writer waits for the first one's commit",
  async (_t, api) => {
    // Without the wait, the second writer's higher id commits first, a stream sends it, and the lower
    // id that commits after it is never sent (a stream sends only what lies above its last id).
    const alice = await api.makePatient();
    const row = { userId: alice.id, type: "general" as const, title: "t", message: "m" };
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => releaseFirst = resolve);
    let firstInserted!: () => void;
    const firstIn = new Promise<void>((resolve) => firstInserted = resolve);
    const first = api.db.transaction(async (tx) => {
      const [n] = await insertNotifications(tx as unknown as typeof api.db, [row], api.clock.now());
      firstInserted();
      await firstHolds;
      return n.id;
    });
    await firstIn;
    let secondDone = false;
    const second = api.db.transaction(async (tx) =>
      (await insertNotifications(tx as unknown as typeof api.db, [row], api.clock.now()))[0].id
    ).finally(() => secondDone = true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const waited = !secondDone;
    releaseFirst();
    const [a, b] = await Promise.all([first, second]);
    assert(waited, "the second writer committed while the first one's notification was still uncommitted");
    assert(a < b, `ids ${a} then ${b}`);
  },
);
