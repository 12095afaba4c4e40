/**
 * The real-time fan-out of one instance: a single LISTEN on `notifications` (sent by whichever
 * instance created them, on commit), and the open streams of this instance by user. A stream is
 * only woken; it then reads what is new for its user from the database, so nothing is lost or
 * doubled when NOTIFYs coalesce or the listening connection is replaced.
 */
import type { AppDeps } from "./deps.ts";

export interface NotificationHub {
  /** Calls `wake` when something may be new for this user; returns the unsubscribe. */
  subscribe(userId: number, wake: () => void): () => void;
  /** Open streams on this instance. */
  readonly size: number;
  close(): Promise<void>;
}

const hubs = new WeakMap<object, NotificationHub>();

/** The hub of an app instance (created on first use: an instance that serves no stream listens to nothing). */
export function hubOf(deps: Pick<AppDeps, "listen" | "onReconnect" | "logger">): NotificationHub {
  let hub = hubs.get(deps);
  if (!hub) {
    hub = createHub(deps);
    hubs.set(deps, hub);
  }
  return hub;
}

function createHub(deps: Pick<AppDeps, "listen" | "onReconnect" | "logger">): NotificationHub {
  const byUser = new Map<number, Set<() => void>>();
  let size = 0;
  const wakeAll = () => byUser.forEach((set) => set.forEach((wake) => wake()));
  const listening = deps.listen("notifications", (payload) => {
    for (const wake of byUser.get(Number(payload)) ?? []) wake();
  }).then((stop) => {
    // The first streams subscribed before the LISTEN was in place: what came meanwhile is theirs too.
    wakeAll();
    return stop;
  }).catch((e) => {
    deps.logger.warn("notification stream listener failed", { error: (e as Error)?.name });
    return undefined;
  });
  deps.onReconnect(wakeAll);
  return {
    subscribe(userId, wake) {
      if (!byUser.has(userId)) byUser.set(userId, new Set());
      byUser.get(userId)!.add(wake);
      size++;
      return () => {
        const set = byUser.get(userId);
        if (set?.delete(wake)) size--;
        if (set?.size === 0) byUser.delete(userId);
      };
    },
    get size() {
      return size;
    },
    async close() {
      await (await listening)?.();
    },
  };
}
