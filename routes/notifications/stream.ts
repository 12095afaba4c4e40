/**
 * `GET /notifications/stream/`: server-sent events, one per notification (`id:` its id, `event:
 * notification`, `data:` its JSON). `Last-Event-ID` (or `?last_event_id=`) replays what came after
 * it, then the stream goes live; a heartbeat comment keeps proxies from closing it; it ends when
 * the session does (logout, password reset, suspension), whichever instance ended it.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../../middleware/env.ts";
import { contextOf } from "../../middleware/service_context.ts";
import { hubOf } from "../../services/notification_hub.ts";
import { newSince, sessionLive, streamStart } from "../../services/notifications.ts";
import { parseRowId } from "../../services/ids.ts";
import { declareRoute, newRouter, problems } from "../_route.ts";
import { notificationView, StreamQuery } from "./schemas.ts";

const stream = declareRoute({
  method: "get",
  path: "/notifications/stream",
  operationId: "notifications_stream",
  tags: ["notifications"],
  summary: "The caller's notifications as server-sent events, live, with Last-Event-ID replay",
  description: "The access token may come as `?access_token=` for EventSource clients. The stream outlives " +
    "the token while its session is live, and closes within seconds of the session ending.",
  access: { kind: "signed-in", policy: "notifications:self" },
  audit: { action: "list", table: "notifications" },
  queryToken: true,
  request: { query: StreamQuery },
  responses: {
    200: { description: "An event stream", content: { "text/event-stream": { schema: { type: "string" } } } },
    ...problems(400, 401),
  },
});

/** As many as `newSince` returns at once: a full batch means there may be more. */
const BATCH = 200;

export function streamRoutes() {
  const app = newRouter();
  app.openapi(stream, (c) => openStream(c as unknown as Context<AppEnv>) as never);
  return app;
}

async function openStream(c: Context<AppEnv>): Promise<Response> {
  const ctx = contextOf(c);
  const { deps } = ctx;
  const header = c.req.header("last-event-id");
  const lastEventId = parseRowId(header ?? c.req.query("last_event_id"));
  let last = await streamStart(ctx, lastEventId);
  const userId = ctx.actor!.userId;
  const res = streamSSE(c, async (sse) => {
    let wake: () => void = () => {};
    let pending = true;
    const signal = () => {
      pending = true;
      wake();
    };
    const unsubscribe = hubOf(deps).subscribe(userId, signal);
    const heartbeat = setInterval(
      () => sse.write(": heartbeat\n\n").catch(() => {}),
      deps.config.STREAM_HEARTBEAT_SECONDS * 1000,
    );
    const sessionCheck = setInterval(async () => {
      if (!(await sessionLive(ctx).catch(() => true))) {
        await sse.close();
        signal();
      }
    }, deps.config.STREAM_SESSION_CHECK_MS);
    sse.onAbort(signal);
    try {
      await sse.write(": connected\n\n");
      while (!sse.aborted && !sse.closed) {
        if (!pending) await new Promise<void>((resolve) => (wake = resolve));
        pending = false;
        const batch = await newSince(ctx, last).catch(() => []);
        for (const n of batch) {
          await sse.writeSSE({ id: String(n.id), event: "notification", data: JSON.stringify(notificationView(n)) });
          last = n.id;
        }
        if (batch.length === BATCH) pending = true;
      }
    } finally {
      clearInterval(heartbeat);
      clearInterval(sessionCheck);
      unsubscribe();
    }
  }, async (error, sse) => {
    deps.logger.warn("notification stream ended by an error", { error: error.name });
    await sse.close();
  });
  // streamSSE says `no-cache`; notifications about someone's care are not to be stored anywhere.
  res.headers.set("Cache-Control", "no-store");
  return res;
}
