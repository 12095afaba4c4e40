/**
 * LISTEN over the Neon driver: one dedicated connection per process for every channel (the pool's
 * connections come and go). A connection that fails is replaced after a pause; the channels are
 * listened to again and `onReconnect` tells subscribers to catch up on what they may have missed.
 * It never throws into the process: errors go to the availability monitor.
 */
import { Client } from "@neondatabase/serverless";
import { type DatabaseAvailability, isConnectionError } from "./availability.ts";
import { Channels, type Listener, listenStatement } from "./listen_channels.ts";

export function neonListener(url: string, availability: DatabaseAvailability, onReconnect: () => void): Listener {
  const channels = new Channels();
  let client: Client | undefined;
  let connecting: Promise<Client | undefined> | undefined;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const connect = (): Promise<Client | undefined> => {
    connecting ??= (async () => {
      const next = new Client(url);
      next.on("error", (e: Error) => lost(next, e));
      next.on("end", () => lost(next, new Error("Connection terminated")));
      next.on("notification", (msg: { channel: string; payload?: string }) => {
        channels.deliver(msg.channel, msg.payload ?? "");
      });
      try {
        await next.connect();
        for (const statement of channels.statements()) await next.query(statement);
        client = next;
        availability.reached();
        return next;
      } catch (e) {
        if (isConnectionError(e)) availability.lost(e);
        next.end().catch(() => {});
        schedule();
        return undefined;
      } finally {
        connecting = undefined;
      }
    })();
    return connecting;
  };
  const lost = (which: Client, e: Error) => {
    if (client !== which) return;
    client = undefined;
    if (isConnectionError(e)) availability.lost(e);
    which.end().catch(() => {});
    schedule();
  };
  const schedule = () => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(async () => {
      retry = undefined;
      if (await connect()) onReconnect();
    }, 500);
  };

  return {
    async listen(channel, onPayload) {
      const added = channels.add(channel, onPayload);
      const current = client ?? await connect();
      if (added && current) await current.query(listenStatement(channel)).catch(() => {});
      return channels.remover(channel, onPayload);
    },
    async close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}
