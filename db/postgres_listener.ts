/**
 * LISTEN over postgres.js: one dedicated connection per process for every channel. postgres.js's
 * own `sql.listen` listens again once after a lost connection and then forgets the channel if the
 * server is still away, so this one retries every half second until it is back, listens to every
 * channel again, and `onReconnect` tells subscribers to catch up on what they may have missed.
 * It never throws into the process: errors go to the availability monitor.
 */
import postgres from "postgres";
import { type DatabaseAvailability, isConnectionError } from "./availability.ts";
import { Channels, type Listener, listenStatement } from "./listen_channels.ts";

export function postgresListener(
  url: string,
  settings: Record<string, unknown>,
  availability: DatabaseAvailability,
  onReconnect: () => void,
): Listener {
  const channels = new Channels();
  let closed = false;
  let healthy = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  // `onnotify` is an option postgres.js's own listen uses but its typings leave out.
  const options = {
    ...settings,
    max: 1,
    idle_timeout: 0,
    max_lifetime: 0,
    onnotify(channel: string, payload: string) {
      channels.deliver(channel, payload);
    },
    onclose() {
      if (closed || !healthy) return;
      healthy = false;
      availability.lost(new Error("Connection terminated"));
      schedule();
    },
  };
  const sql = postgres(url, options as unknown as postgres.Options<Record<string, never>>);

  /** LISTENs to every channel on a (re)opened connection; true when all went through. */
  const listenAll = async (): Promise<boolean> => {
    try {
      const statements = channels.statements();
      for (const statement of statements) await sql.unsafe(statement);
      if (statements.length === 0) await sql.unsafe("select 1");
      healthy = true;
      availability.reached();
      return true;
    } catch (e) {
      if (isConnectionError(e)) availability.lost(e);
      return false;
    }
  };
  const schedule = () => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(async () => {
      retry = undefined;
      if (closed) return;
      if (await listenAll()) onReconnect();
      else schedule();
    }, 500);
  };

  return {
    async listen(channel, onPayload) {
      if (channels.add(channel, onPayload)) {
        const ok = await sql.unsafe(listenStatement(channel)).then(() => true, (e) => {
          if (isConnectionError(e)) availability.lost(e);
          return false;
        });
        if (ok) healthy = true;
        else schedule();
      }
      return channels.remover(channel, onPayload);
    },
    async close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      await sql.end({ timeout: 0 }).catch(() => {});
    },
  };
}
