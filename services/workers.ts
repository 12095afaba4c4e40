/**
 * The background work of an instance: the outbox relay (woken by NOTIFY from any instance, and
 * polled as a fallback), notification e-mail, and appointment reminders. Every instance runs them;
 * the database decides who does each piece (SKIP LOCKED, a claiming UPDATE), so nothing is done
 * twice. A failure is logged and retried on the next round; it never ends the process.
 */
import { isConnectionError } from "../db/availability.ts";
import { claimDueReminders } from "../db/reminders.ts";
import type { AppDeps } from "./deps.ts";
import { mailOnce, relayOnce } from "./notification_relay.ts";

export interface Workers {
  /** Runs the relay now (after a change that emitted events, in tests). */
  wake(): void;
  stop(): Promise<void>;
}

export function startWorkers(deps: AppDeps): Workers {
  const { config, logger } = deps;
  const timers: ReturnType<typeof setInterval>[] = [];
  const running = new Set<Promise<unknown>>();
  let stopped = false;
  const loop = (name: string, once: () => Promise<number>) => {
    let busy = false;
    let again = false;
    const run = async () => {
      if (stopped) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        do {
          again = false;
          while (!stopped && await once() > 0) { /* drain */ }
        } while (again && !stopped);
      } catch (e) {
        if (isConnectionError(e)) deps.availability.lost(e);
        else logger.error("background work failed", { work: name, error: (e as Error)?.name });
      } finally {
        busy = false;
      }
    };
    return () => {
      const p = run();
      running.add(p);
      p.finally(() => running.delete(p));
    };
  };
  const relay = loop("relay", () => relayOnce(deps));
  const mail = loop("mail", () => mailOnce(deps));
  const reminders = loop("reminders", async () => {
    const claimed = await claimDueReminders(deps.db, deps.clock(), config.REMINDER_LEAD_HOURS * 3600_000);
    if (claimed > 0) relay();
    return 0;
  });
  let unlisten: (() => Promise<void>) | undefined;
  deps.listen("outbox", () => {
    relay();
    mail();
  }).then((stop) => (unlisten = stop), () => {});
  deps.onReconnect(relay);
  timers.push(setInterval(() => (relay(), mail()), config.NOTIFICATION_POLL_MS));
  timers.push(setInterval(reminders, config.REMINDER_SCAN_SECONDS * 1000));
  relay();
  reminders();
  return {
    wake: relay,
    async stop() {
      stopped = true;
      timers.forEach(clearInterval);
      await unlisten?.();
      await Promise.allSettled([...running]);
    },
  };
}
