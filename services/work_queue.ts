/**
 * Runs at most `limit` tasks at once; the rest wait in arrival order. Password hashing goes through
 * one: each argon2id hash holds 12–19 MiB, so 32 sign-ins at once held 600 MiB, and hashing is CPU-bound,
 * so more at once than there are cores only adds memory and context switches.
 */
export class WorkQueue {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError("a work queue runs at least one task");
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) await new Promise<void>((resume) => this.#waiting.push(resume));
    else this.#running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so a newcomer cannot overtake it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
