/**
 * One outbound provider call, bounded and logged: each attempt leaves an integration-log entry
 * (latency, attempt, outcome, secrets scrubbed); the whole call, retries included, ends within
 * the timeout; only idempotent calls are retried, with exponential backoff and jitter. A
 * provider that cannot be reached is 503 `provider-unavailable` with `Retry-After`; a call that
 * cannot be repeated and got no answer is `OutcomeUnknown`, never "nothing was charged".
 */
import { type DomainError, Unavailable } from "../../errors.ts";
import type { CallLog } from "./provider.ts";

export interface CallBudget {
  timeoutMs: number;
  retries: number;
  retryAfterSeconds: number;
}

/**
 * How a failed attempt reads: worth another try (the provider may not have acted), or a final answer.
 * `unanswered`: no answer came back, so the provider may have acted all the same (a timeout, a
 * connection lost after the request went out), unlike an error it answered or a refused connection.
 */
export type Failure =
  | { transient: true; detail: string; unanswered?: boolean }
  | { transient: false; detail: string; error: DomainError };

/**
 * A call that cannot be repeated safely got no answer: the provider may or may not have acted.
 * Never "nothing was charged": the caller keeps what it started and lets the provider's own word
 * (its callback) settle it.
 */
export class OutcomeUnknown extends Error {
  constructor(readonly detail: string) {
    super(`no answer from the provider, which may have acted: ${detail}`);
  }
}

export interface Call<T> {
  system: string;
  /** The integration log's `data_type`, e.g. `payment_intent.create`. */
  operation: string;
  /** The integration log's `data_reference`, e.g. `payment:12`. */
  reference: string;
  /** Retried only when true (a repeat cannot act twice: an idempotency key, or a read). */
  idempotent: boolean;
  budget: CallBudget;
  log: CallLog;
  /** Everything that must never appear in a log line. */
  secrets: readonly string[];
  run(timeoutMs: number): Promise<T>;
  classify(error: unknown): Failure;
  /** The log detail of a success. */
  describe?(result: T): string;
}

export function providerUnavailable(retryAfterSeconds: number): Unavailable {
  return new Unavailable(
    "provider-unavailable",
    "The payment provider is unavailable; nothing was charged, try again shortly",
    retryAfterSeconds,
  );
}

export async function callProvider<T>(call: Call<T>): Promise<T> {
  const deadline = performance.now() + call.budget.timeoutMs;
  const tries = call.idempotent ? call.budget.retries + 1 : 1;
  for (let attempt = 1;; attempt++) {
    const left = Math.max(1, Math.floor(deadline - performance.now()));
    const started = performance.now();
    let failure: Failure;
    try {
      const result = await bounded(call.run(left), left);
      await call.log(entry(call, attempt, started, "success", call.describe?.(result) ?? "ok"));
      return result;
    } catch (e) {
      failure = e instanceof TimedOut ? { transient: true, detail: e.message, unanswered: true } : call.classify(e);
    }
    await call.log(entry(call, attempt, started, "failed", failure.detail));
    if (!failure.transient) throw failure.error;
    if (!call.idempotent && failure.unanswered) throw new OutcomeUnknown(scrub(failure.detail, call.secrets));
    const pause = Math.min(1000, 50 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    if (attempt >= tries || performance.now() + pause >= deadline) {
      throw providerUnavailable(call.budget.retryAfterSeconds);
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

function entry(call: Call<unknown>, attempt: number, started: number, status: "success" | "failed", detail: string) {
  return {
    systemName: call.system,
    dataType: call.operation,
    dataReference: call.reference,
    syncStatus: status,
    detail: scrub(detail, call.secrets),
    latencyMs: performance.now() - started,
    attempt,
  };
}

class TimedOut extends Error {}

/** The call's own timeout should fire first; this one makes sure nothing outlives the budget. */
async function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`no answer within ${ms} ms`)), ms + 50);
  });
  try {
    return await Promise.race([work, expiry]);
  } finally {
    clearTimeout(timer);
  }
}

const SECRET_SHAPES = [
  /\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]+/g,
  /\bwhsec_[A-Za-z0-9_]+/g,
  /\bpi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+/g,
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\b\d{13,19}\b/g, // anything shaped like a card number
];

/** A log line without secrets: the configured ones and anything shaped like a key, token or card number. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.replaceAll(secret, "[redacted]");
  for (const shape of SECRET_SHAPES) out = out.replace(shape, "[redacted]");
  return out.slice(0, 2000);
}
