import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { findStoredResponse, pruneKeys, type StoredResponse } from "../db/idempotency.ts";
import { Invalid, Malformed } from "../errors.ts";
import { KeyAlreadyUsed } from "../services/idempotency.ts";
import { principalOf } from "./authenticate.ts";
import type { AppEnv } from "./env.ts";
import { contextOf } from "./service_context.ts";

/** Printable ASCII without spaces, as Stripe and the IETF draft use (UUIDs fit). */
const KEY = /^[\x21-\x7e]{1,255}$/;
const PRUNE_EVERY_MS = 10 * 60_000;
let lastPrune = 0;

/**
 * `Idempotency-Key` on a POST that creates something: a retry with the same key and body gets
 * the first answer (status and body, kept in the database with the change) and creates nothing;
 * the same key with another body is 422; a key whose first request is still running is 409.
 */
export function idempotency(): MiddlewareHandler<AppEnv> {
  return async function idempotencyMiddleware(c, next) {
    const key = c.req.header("idempotency-key");
    if (key === undefined) return await next();
    if (!KEY.test(key)) {
      throw new Malformed("invalid-idempotency-key", "Idempotency-Key must be 1 to 255 printable characters");
    }
    const { userId } = principalOf(c);
    const requestHash = await hashRequest(c);
    const { db, clock, background } = c.get("deps");
    const now = clock();
    if (now.getTime() - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = now.getTime();
      background.run("prune-idempotency-keys", () => pruneKeys(db, now));
    }
    const stored = await findStoredResponse(db, userId, key, now);
    if (stored) return await replay(c, stored, requestHash);
    c.set("idempotency", { userId, key, requestHash });
    await next();
    if (c.error instanceof KeyAlreadyUsed) {
      const first = await findStoredResponse(db, userId, key, clock());
      if (first) {
        const answer = await replay(c, first, requestHash);
        c.res = undefined;
        c.res = answer;
      }
    }
  };
}

async function replay(c: Context<AppEnv>, stored: StoredResponse, requestHash: string): Promise<Response> {
  if (stored.requestHash !== requestHash) {
    throw new Invalid(
      [{ parameter: "Idempotency-Key", detail: "Use a new key for a new request" }],
      "This Idempotency-Key was used with a different request",
      "idempotency-key-reused",
    );
  }
  const audit = c.get("audit");
  if (audit) {
    // The stored body is handed out again: that is a read, and it is recorded like one.
    await contextOf(c).uow.record({
      action: audit.action,
      outcome: "success",
      targetTable: audit.table,
      targetId: idOf(stored.body),
      details: { idempotent_replay: true },
    });
  }
  c.header("Idempotent-Replayed", "true");
  return c.json(stored.body as object, stored.status as ContentfulStatusCode);
}

function idOf(body: unknown): string | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "number" || typeof id === "string" ? String(id) : null;
}

/**
 * The request's fingerprint: method, path and body. JSON is compared by value (key order and
 * spacing do not matter); a multipart body without its random boundary.
 */
async function hashRequest(c: Context<AppEnv>): Promise<string> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const type = c.req.header("content-type")?.toLowerCase() ?? "";
  let body: string = new TextDecoder("latin1").decode(bytes);
  if (/\bjson\b/.test(type)) {
    try {
      body = canonicalJson(JSON.parse(new TextDecoder().decode(bytes)));
    } catch {
      // not JSON after all: the validator answers it; the raw text is fingerprint enough
    }
  } else if (type.startsWith("multipart/")) {
    const boundary = c.req.header("content-type")?.match(/boundary="?([^";]+)"?/i)?.[1];
    if (boundary) body = body.replaceAll(boundary, "");
  }
  const path = c.req.path.replace(/\/+$/, "");
  const text = new TextEncoder().encode(`${c.req.method} ${path}\n${body}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", text));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.keys(value).sort().map((k) =>
      `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`
    );
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}
