/**
 * argon2id without a native addon (where FFI is not allowed, e.g. Deno Deploy): hash-wasm, which
 * writes and reads the same PHC strings as @node-rs/argon2 with the same parameters, so either
 * verifies what the other hashed. WASM runs on the thread that calls it and blocks it for a whole
 * hash (62–64 ms measured at 12 MiB × 3), so hashing runs in worker threads; where no worker can be
 * started it runs inline, which the caller is told.
 */
import { Worker } from "node:worker_threads";
import { argon2id, argon2Verify } from "hash-wasm";
import { ARGON2ID } from "./argon2_params.ts";

/** A hash at ARGON2ID, with its salt and hash lengths, which are those @node-rs/argon2 writes. */
export function hashPortable(password: string): Promise<string> {
  const { memoryKiB, iterations, parallelism, hashLength, saltLength } = ARGON2ID;
  const salt = crypto.getRandomValues(new Uint8Array(saltLength));
  return argon2id({
    password,
    salt,
    memorySize: memoryKiB,
    iterations,
    parallelism,
    hashLength,
    outputType: "encoded",
  });
}

export async function verifyPortable(phc: string, password: string): Promise<boolean> {
  try {
    return await argon2Verify({ password, hash: phc });
  } catch {
    return false;
  }
}

export type Job = { id: number; op: "hash"; password: string } | {
  id: number;
  op: "verify";
  phc: string;
  password: string;
};
export type Answer = { id: number; result: string | boolean } | { id: number; error: string };

interface Pending {
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

/** A few workers running `argon2_worker.ts`; they keep the process alive only while they have work. */
export class Argon2Workers {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private next = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./argon2_worker.ts", import.meta.url));
      worker.on("message", (answer: Answer) => this.settle(answer));
      worker.on("error", (error: Error) => this.failAll(error));
      worker.unref();
      this.workers.push(worker);
    }
  }

  hash(password: string): Promise<string> {
    return this.run({ op: "hash", password }) as Promise<string>;
  }

  verify(phc: string, password: string): Promise<boolean> {
    return this.run({ op: "verify", phc, password }) as Promise<boolean>;
  }

  private run(job: { op: "hash"; password: string } | { op: "verify"; phc: string; password: string }) {
    const id = ++this.next;
    const worker = this.workers[id % this.workers.length];
    if (this.pending.size === 0) { for (const w of this.workers) w.ref(); }
    return new Promise<string | boolean>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...job, id });
    });
  }

  private settle(answer: Answer) {
    const waiting = this.pending.get(answer.id);
    if (!waiting) return;
    this.pending.delete(answer.id);
    if (this.pending.size === 0) { for (const w of this.workers) w.unref(); }
    if ("error" in answer) waiting.reject(new Error(answer.error));
    else waiting.resolve(answer.result);
  }

  private failAll(error: Error) {
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      waiting.reject(error);
    }
    for (const w of this.workers) w.unref();
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
