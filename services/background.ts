import type { Logger } from "./logger.ts";

/**
 * Work a response must not wait for (mail delivery: awaiting it would let response time reveal
 * whether an account exists). Failures are logged; `settle()` lets tests and shutdown wait.
 */
export interface BackgroundTasks {
  run(name: string, task: () => Promise<unknown>): void;
  settle(): Promise<void>;
}

export function createBackgroundTasks(logger: Logger): BackgroundTasks {
  const pending = new Set<Promise<unknown>>();
  return {
    run(name, task) {
      const p = task().catch((e) =>
        logger.error("background task failed", { task: name, error: String(e?.message ?? e) })
      )
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    async settle() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
