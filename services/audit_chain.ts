/**
 * The digests of the audit chain and its signed checkpoints, computed in the app:
 *
 * - a sealed row's `row_hash` is HMAC-SHA256(AUDIT_HMAC_KEY, prev_hash + "\n" + canonical text),
 *   the canonical text being the JSON array of its position and every column as Postgres writes
 *   it (JSON, so no value can pass for a separator);
 * - rows chained before migration 0011 keep their unkeyed SHA-256 digest (the old trigger's text);
 * - a checkpoint `cp1.<seq>.<row_hash>.<signed at, ms>.<HMAC>` publishes the head of the chain, so
 *   rows cut off the end are noticed by comparing with one published earlier.
 */
import type { ChainRow } from "../db/audit_chain.ts";
import type { AuditKeys } from "./audit_key.ts";

export const GENESIS = "0".repeat(64);

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The text a sealed row's HMAC covers, after its predecessor's hash. */
export function canonicalText(row: ChainRow, seq: number): string {
  return JSON.stringify([
    seq,
    row.id,
    row.user_id,
    row.role,
    row.action,
    row.target_table,
    row.target_id,
    row.patient_id,
    row.patient_ids,
    row.ip_address,
    row.user_agent,
    row.request_id,
    row.client_request_id,
    row.outcome,
    row.event_at,
    row.details,
    row.appended,
  ]);
}

/** A sealed row's hash: keyed, so it cannot be recomputed from inside the database. */
export async function sealedDigest(keys: AuditKeys, prev: string, row: ChainRow, seq: number): Promise<string> {
  return hex(await crypto.subtle.sign("HMAC", keys.chain, encoder.encode(`${prev}\n${canonicalText(row, seq)}`)));
}

/** The digest the chain trigger of migrations 0003–0008 computed (SHA-256, no key), for rows chained then. */
export async function legacyDigest(row: ChainRow): Promise<string> {
  const text = [
    row.chain_seq,
    row.prev_hash ?? "\\N",
    row.id,
    row.user_id ?? "\\N",
    row.role ?? "\\N",
    row.action,
    row.target_table ?? "\\N",
    row.target_id ?? "\\N",
    row.patient_id ?? "\\N",
    row.patient_ids,
    row.ip_address ?? "\\N",
    row.user_agent ?? "\\N",
    row.request_id ?? "\\N",
    row.outcome,
    row.event_at,
    row.details,
    ...(row.appended ? ["appended"] : []),
  ].join("\x1f");
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** The head of the chain, signed: what the log and `GET /auditlogs/verify/` publish. */
export interface Checkpoint {
  chain_seq: number;
  row_hash: string;
  signed_at: string;
  /** The whole checkpoint as one string, to keep and to give back to a verifier. */
  token: string;
}

export async function signCheckpoint(keys: AuditKeys, seq: number, hash: string, at: Date): Promise<Checkpoint> {
  const body = `cp1.${seq}.${hash}.${at.getTime()}`;
  const signature = base64url(await crypto.subtle.sign("HMAC", keys.checkpoint, encoder.encode(body)));
  return { chain_seq: seq, row_hash: hash, signed_at: at.toISOString(), token: `${body}.${signature}` };
}

const CHECKPOINT = /^cp1\.([1-9][0-9]{0,15})\.([0-9a-f]{64})\.([0-9]{1,15})\.([A-Za-z0-9_-]{43})$/;

/** A checkpoint token read back, or null when it is malformed or not signed with this key. */
export async function readCheckpoint(keys: AuditKeys, token: string): Promise<Checkpoint | null> {
  const match = CHECKPOINT.exec(token.trim());
  if (!match) return null;
  const [, seq, hash, at] = match;
  const expected = await signCheckpoint(keys, Number(seq), hash, new Date(Number(at)));
  return timingSafeEqualText(expected.token, token.trim()) ? expected : null;
}

function timingSafeEqualText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
