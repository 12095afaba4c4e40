/** A worker thread for `Argon2Workers`: hashes and verifies with hash-wasm off the main thread. */
import { parentPort } from "node:worker_threads";
import { type Answer, hashPortable, type Job, verifyPortable } from "./argon2_portable.ts";

parentPort?.on("message", async (job: Job) => {
  let answer: Answer;
  try {
    answer = {
      id: job.id,
      result: job.op === "hash" ? await hashPortable(job.password) : await verifyPortable(job.phc, job.password),
    };
  } catch (e) {
    answer = { id: job.id, error: String((e as Error)?.message ?? e) };
  }
  parentPort?.postMessage(answer);
});
