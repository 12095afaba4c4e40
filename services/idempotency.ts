/**
 * `Idempotency-Key` inside the unit of work: the key is claimed in the transaction of the change
 * it guards and keeps the response given, so the key, the change and the answer commit together.
 */
import type { Database } from "../db/client.ts";
import { sqlState } from "../db/errors.ts";
import { claimKey, storeResponse } from "../db/idempotency.ts";
import { Conflict } from "../errors.ts";

export interface IdempotencyClaim {
  userId: number;
  key: string;
  requestHash: string;
}

/**
 * Another request committed this key first: its stored response is the answer (the HTTP layer
 * reads it back). A conflict only if that cannot be done.
 */
export class KeyAlreadyUsed extends Conflict {
  constructor() {
    super("idempotency-key-in-flight", "A request with this Idempotency-Key was answered first");
  }
}

/** A request with the same key is still running past the wait. */
export function keyInFlight(): Conflict {
  return new Conflict("idempotency-key-in-flight", "A request with this Idempotency-Key is still running", {
    retryAfterSeconds: 1,
  });
}

/** Claims the key in `tx`: the claim's id; `KeyAlreadyUsed` or `keyInFlight()` otherwise. */
export async function claimRequestKey(tx: Database, claim: IdempotencyClaim, now: Date, waitMs: number) {
  try {
    const id = await claimKey(tx, { ...claim, now, waitMs });
    if (id === null) throw new KeyAlreadyUsed();
    return id;
  } catch (e) {
    if (sqlState(e) === "55P03") throw keyInFlight();
    throw e;
  }
}

/** Keeps the response with the claim, in the same transaction. */
export function keepResponse(tx: Database, claimId: number, status: number, body: unknown): Promise<void> {
  return storeResponse(tx, claimId, status, body);
}
