/**
 * LISTEN over the Neon driver: one dedicated connection per process for every channel (the pool's
 * connections come and go). A connection that fails is replaced after a pause; the channels are
 * listened to again and `onReconnect` tells subscribers to catch up on what they may have missed.
 * It never throws into the process: errors go to the availability monitor.
 */
import { Client } from "@neondatabase/serverless";
import { type DatabaseAvailability, isConnectionError } from "./availability.ts";

export interface NeonListener {
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export function neonListener(url: string, availability: DatabaseAvailability, onReconnect: () => void): NeonListener {
  const channels = new Map<string, Set<(payload: string) => void>>();
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
        for (const handler of channels.get(msg.channel) ?? []) handler(msg.payload ?? "");
      });
      try {
        await next.connect();
        for (const channel of channels.keys()) await next.query(`LISTEN ${quote(channel)}`);
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
      const known = channels.has(channel);
      if (!known) channels.set(channel, new Set());
      channels.get(channel)!.add(onPayload);
      const current = client ?? await connect();
      if (!known && current) await current.query(`LISTEN ${quote(channel)}`).catch(() => {});
      return () => {
        channels.get(channel)?.delete(onPayload);
        return Promise.resolve();
      };
    },
    async close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}

function quote(channel: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  return channel;
}
