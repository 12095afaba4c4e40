/** Matrix recipes for notifications, the stream, messages and notification preferences. */
import { messages, notifications } from "../../db/schema.ts";
import { cached } from "./_factories.ts";
import { type Caller, MISSING_ID, type Recipe, type Target, type TargetRow, type World } from "./_world.ts";

function notification(w: World, target: Target): Promise<TargetRow> {
  if (target === "missing") return Promise.resolve({ id: MISSING_ID });
  return (async () => {
    const owner = target === "own" ? w.actors.owner.id : w.actors.otherPatient.id;
    const [row] = await w.api.db.insert(notifications).values({ userId: owner, title: "t", message: "m" }).returning();
    return { id: row.id, owner };
  })();
}

/** A message from the caring doctor to the patient (own), or between the other pair (another). */
function message(w: World, target: Target): Promise<TargetRow> {
  if (target === "missing") return Promise.resolve({ id: MISSING_ID });
  return (async () => {
    const [sender, receiver] = target === "own"
      ? [w.actors.careDoctor.id, w.actors.owner.id]
      : [w.thirdDoctor.id, w.actors.otherPatient.id];
    const [row] = await w.api.db.insert(messages).values({
      senderId: sender,
      receiverId: receiver,
      messageBody: "hello",
    })
      .returning();
    return { id: row.id, owner: receiver, parties: [sender, receiver] };
  })();
}

const signedIn: Recipe["expect"] = (_w, caller) => (caller === "anonymous" ? 401 : "2xx");

function on(
  method: string,
  path: (id: number | string) => string,
  make: (w: World, t: Target) => Promise<TargetRow>,
  body?: unknown,
): Recipe {
  return {
    async request(w, target) {
      const row = await make(w, target);
      return { cell: { method, path: path(row.id), body }, row };
    },
  };
}

/** Who the receiver of a new message is, per target: the owner's doctor, the other patient's doctor, nobody. */
function receiverFor(w: World, target: Target): number {
  return target === "own" ? w.actors.careDoctor.id : target === "another" ? w.thirdDoctor.id : MISSING_ID;
}

function mayWrite(w: World, caller: Caller, target: Target): "2xx" | 403 | "refused" {
  if (!w.permissions[caller].has("messages:write")) return 403;
  if (target === "missing") return 403;
  const me = w.actors[caller as Exclude<Caller, "anonymous">].id;
  if (receiverFor(w, target) === me) return "refused";
  if (caller === "admin" || caller === "careDoctor" || caller === "colleague" || caller === "otherDoctor") return "2xx";
  if (caller === "owner") return target === "own" ? "2xx" : 403;
  if (caller === "otherPatient") return target === "another" ? "2xx" : 403;
  return 403;
}

export const messagingRecipes: Record<string, Recipe> = {
  "GET /notifications": {
    request: () => Promise.resolve({ cell: { method: "GET", path: "/notifications/?page_size=200" } }),
    expect: signedIn,
    listed: (body) => (body.results as { id: number; user: number }[]).map((r) => ({ id: r.id, owner: r.user })),
  },
  "GET /notifications/unread-count": {
    request: () => Promise.resolve({ cell: { method: "GET", path: "/notifications/unread-count/" } }),
    expect: signedIn,
  },
  "GET /notifications/{id}": on(
    "GET",
    (id) => `/notifications/${id}/`,
    (w, t) => cached(w, "note", t, () => notification(w, t)),
  ),
  "PATCH /notifications/{id}": on("PATCH", (id) => `/notifications/${id}/`, notification, { status: "read" }),
  "PUT /notifications/{id}": on("PUT", (id) => `/notifications/${id}/`, notification, { status: "read" }),
  "POST /notifications": {
    request: (w, target) => {
      const user = target === "own" ? w.actors.owner.id : target === "another" ? w.actors.otherPatient.id : MISSING_ID;
      return Promise.resolve({
        cell: { method: "POST", path: "/notifications/", body: { user, title: "Clinic closed", message: "Monday" } },
      });
    },
    expect: (w, caller, target) => {
      if (caller === "anonymous") return 401;
      if (!w.permissions[caller].has("notifications:write:any")) return 403;
      return target === "missing" ? "refused" : "2xx";
    },
  },
  // The test client answers with the stream's status and closes it.
  "GET /notifications/stream": {
    request: () => Promise.resolve({ cell: { method: "GET", path: "/notifications/stream/" } }),
    expect: signedIn,
  },
  "GET /messages": {
    request: () => Promise.resolve({ cell: { method: "GET", path: "/messages/?page_size=200" } }),
    listed: (body) =>
      (body.results as { id: number; sender: number; receiver: number }[]).map((r) => ({
        id: r.id,
        parties: [r.sender, r.receiver],
      })),
  },
  "GET /messages/conversations": {
    request: () => Promise.resolve({ cell: { method: "GET", path: "/messages/conversations/" } }),
  },
  "GET /messages/{id}": on("GET", (id) => `/messages/${id}/`, (w, t) => cached(w, "msg", t, () => message(w, t))),
  "POST /messages": {
    request: (w, target) =>
      Promise.resolve({
        cell: { method: "POST", path: "/messages/", body: { receiver: receiverFor(w, target), message_body: "Hello" } },
      }),
    expect: (w, caller, target) => (caller === "anonymous" ? 401 : mayWrite(w, caller, target)),
  },
  "PATCH /messages/{id}": {
    ...on("PATCH", (id) => `/messages/${id}/`, message, { read_status: true }),
    expect: markRead,
  },
  "PUT /messages/{id}": { ...on("PUT", (id) => `/messages/${id}/`, message, { read_status: true }), expect: markRead },
  "GET /me/notification-preferences": {
    request: () => Promise.resolve({ cell: { method: "GET", path: "/me/notification-preferences/" } }),
    expect: signedIn,
  },
  "PUT /me/notification-preferences": {
    request: () =>
      Promise.resolve({
        cell: {
          method: "PUT",
          path: "/me/notification-preferences/",
          body: { channels: { lab_result: { email: true } }, quiet_hours: null, time_zone: "UTC" },
        },
      }),
    expect: signedIn,
  },
};

/** Only the receiver marks a message read; its sender sees it but may not (403); others do not see it. */
function markRead(w: World, caller: Caller, target: Target, row: TargetRow | undefined) {
  if (caller === "anonymous") return 401;
  if (!w.permissions[caller].has("messages:read")) return 403;
  if (target === "missing" || !row?.parties) return 404;
  const me = w.actors[caller].id;
  if (row.owner === me) return "2xx";
  return row.parties.includes(me) ? 403 : 404;
}
