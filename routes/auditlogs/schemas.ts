import { z } from "@hono/zod-openapi";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from "../../db/schema.ts";
import { pageQuery } from "../_list.ts";
import { idText, instant } from "../_schemas.ts";

const DETAILS_MAX_BYTES = 10_240;
const DETAILS_MAX_DEPTH = 8;
/** Keys the server writes into `details` itself (as on every event it records). */
const SERVER_DETAILS = ["method", "route"];
const tableName = z.string().min(1).max(64).regex(/^[a-z_][a-z0-9_]*$/, "Lower-case letters, digits and _ only");
// deno-lint-ignore no-control-regex -- control characters are exactly what is refused
const targetId = z.string().min(1).max(200).regex(/^[^\u0000-\u001f]+$/, "No control characters")
  .refine((s) => s.isWellFormed(), "No unpaired surrogates");

export const AuditLog = z.object({
  id: z.number().int(),
  user: z.number().int().nullable(),
  role: z.string().nullable(),
  action: z.string().openapi({ description: "A system action, or the word an appended event was given" }),
  target_table: z.string().nullable(),
  target_id: z.string().nullable(),
  patient: z.number().int().nullable(),
  patient_ids: z.array(z.number().int()),
  ip_address: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable().openapi({ description: "The server's id of the request (a UUID)" }),
  client_request_id: z.string().nullable().openapi({ description: "The X-Request-Id the client sent, if well-formed" }),
  outcome: z.enum(AUDIT_OUTCOMES),
  event_timestamp: z.string(),
  details: z.record(z.string(), z.unknown()),
  appended: z.boolean().openapi({ description: "Appended by a user (POST /auditlogs/), not recorded by the system" }),
  chain_seq: z.number().int().nullable(),
  row_hash: z.string().nullable(),
}).openapi("AuditLog");

const noForbiddenText = (text: string) => !/(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i.test(text);
const DetailsObject = z.record(z.string(), z.unknown()).superRefine((details, ctx) => {
  const text = JSON.stringify(details);
  if (new TextEncoder().encode(text).length > DETAILS_MAX_BYTES) {
    ctx.addIssue({ code: "custom", message: `At most ${DETAILS_MAX_BYTES} bytes as JSON` });
  } else if (depth(details) > DETAILS_MAX_DEPTH) {
    ctx.addIssue({ code: "custom", message: `At most ${DETAILS_MAX_DEPTH} levels of nesting` });
  } else if (!noForbiddenText(text)) {
    // JSON stores neither NUL nor a lone surrogate (well-formed pairs are not escaped by stringify).
    ctx.addIssue({ code: "custom", message: "Contains a NUL character or an unpaired surrogate" });
  }
  for (const key of SERVER_DETAILS.filter((k) => Object.hasOwn(details, k))) {
    ctx.addIssue({ code: "custom", path: [key], message: "Set by the server" });
  }
});
const DetailsText = z.string().max(DETAILS_MAX_BYTES)
  .refine((s) => noForbiddenText(JSON.stringify(s)), "Contains a NUL character or an unpaired surrogate");

export const AuditLogCreate = z.strictObject({
  action: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "A lowercase word (letters, digits, _), at most 32")
    .openapi({ description: "Your own word for the event; the system's actions cannot be appended" }),
  target_table: tableName.optional(),
  target_id: z.union([targetId, z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)]).optional(),
  patient: z.number().int().positive().max(2147483647).optional(),
  details: z.union([DetailsObject, DetailsText]).optional()
    .openapi({ description: "An object, or text (kept as `{text: …}`)" }),
}).openapi("AuditLogCreate");

export const VerifyQuery = z.object({
  checkpoint: z.string().max(200).optional().openapi({ description: "A checkpoint token published earlier" }),
});

const Checkpoint = z.object({
  chain_seq: z.number().int(),
  row_hash: z.string(),
  signed_at: z.string(),
  token: z.string().openapi({
    description: "Keep it; give it back as `?checkpoint=` (or to `deno task audit:verify`)",
  }),
}).openapi("AuditCheckpoint");

export const ChainReport = z.object({
  ok: z.boolean().openapi({ description: "The sealed chain verifies (and reaches the given checkpoint unchanged)" }),
  rows: z.number().int(),
  first_bad_row: z.object({ id: z.number().int(), chain_seq: z.number().int().nullable() }).nullable(),
  sealed_rows: z.number().int(),
  legacy_rows: z.number().int().openapi({ description: "Rows chained before keyed sealing, by unkeyed SHA-256" }),
  unsealed: z.object({
    rows: z.number().int(),
    oldest_id: z.number().int().nullable(),
    oldest_at: z.string().nullable(),
  }).openapi({ description: "The tail the sealer has not reached yet: not a break" }),
  checkpoint: Checkpoint.nullable(),
  against_checkpoint: z.object({
    chain_seq: z.number().int(),
    ok: z.boolean(),
    problem: z.enum(["truncated", "rewritten"]).nullable(),
  }).nullable(),
}).openapi("AuditChainReport");

export const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["event_timestamp", "-event_timestamp", "id", "-id"]).default("-event_timestamp"),
  user: idText.optional().openapi({ description: "Events by this user" }),
  patient: idText.optional().openapi({ description: "Events that concern this patient" }),
  target_table: tableName.optional(),
  target_id: targetId.optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  from: instant.optional().openapi({ description: "Events at or after (ISO 8601)" }),
  to: instant.optional().openapi({ description: "Events before (ISO 8601)" }),
});

function depth(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  let deepest = 0;
  for (const v of Object.values(value)) {
    deepest = Math.max(deepest, depth(v));
    if (deepest > DETAILS_MAX_DEPTH) break;
  }
  return deepest + 1;
}
