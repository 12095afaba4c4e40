import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { AppEnv } from "../app_env.ts";
import { isConnectionError } from "../db/availability.ts";

/** One field-level validation failure: a JSON pointer into the body, or a query parameter name. */
export interface FieldError {
  pointer?: string;
  parameter?: string;
  detail: string;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Stable problem `type` URIs; clients may switch on them. */
export function problemType(slug: string): string {
  return `urn:problem-type:patient-portal:${slug}`;
}

/** An RFC 9457 problem that any handler or middleware may throw. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; title?: string } = {},
  ) {
    super(detail);
  }
}

export function problemResponse(c: Context<AppEnv>, problem: ProblemError): Response {
  const body: Record<string, unknown> = {
    type: problemType(problem.slug),
    title: problem.extra.title ?? TITLES[problem.status] ?? "Error",
    status: problem.status,
    detail: problem.detail,
    request_id: c.get("requestId") ?? null,
  };
  if (problem.extra.errors) body.errors = problem.extra.errors;
  // c.body (not new Response) keeps headers set earlier on the context, such as X-Request-Id.
  return c.body(JSON.stringify(body), problem.status as ContentfulStatusCode, {
    ...problem.extra.headers,
    "content-type": "application/problem+json",
  });
}

export const notFound = () => new ProblemError(404, "not-found", "The requested resource was not found");

/** The one `onError`: known problems as they are; anything else a bare 500 with the request id. */
export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof ProblemError) return problemResponse(c, err);
  if (err instanceof HTTPException) return problemResponse(c, fromHttpException(err));
  if (isConnectionError(err)) return problemResponse(c, databaseUnavailable(c, err));
  const mapped = fromDatabaseError(err);
  if (mapped) return problemResponse(c, mapped);
  // Not err.message: drizzle's "Failed query" message repeats the parameters (hashes, health data).
  const driver = driverError(err) as { message?: string } | undefined;
  c.get("logger")?.error("unhandled error", {
    request_id: c.get("requestId"),
    error: err?.name,
    sqlstate: driver && sqlState(err),
    driver_message: driver?.message,
    stack: err?.stack?.split("\n").filter((line) => line.trimStart().startsWith("at ")).join("\n"),
  });
  return problemResponse(c, new ProblemError(500, "internal", "Internal Server Error"));
}

/** 503 while the database cannot be reached; the outage is reported (and logged once). */
export function databaseUnavailable(c: Context<AppEnv>, err: unknown): ProblemError {
  const deps = c.get("deps");
  deps?.availability.lost(err);
  return new ProblemError(503, "database-unavailable", "The database is unavailable; try again shortly", {
    headers: { "Retry-After": String(deps?.config.DB_RETRY_AFTER_SECONDS ?? 2) },
  });
}

/**
 * The one `notFound`: 405 with `Allow` when the path exists under other methods, else 404.
 * `routes` is the app's route table, read when the first request misses.
 */
export function notFoundHandler(routes: () => { method: string; path: string }[]) {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return function onNotFound(c: Context<AppEnv>): Response {
    table ??= routes()
      .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(`^${r.path.replace(/:[^/]+/g, "[^/]+").replace(/\/$/, "")}/?$`),
      }));
    const allowed = [...new Set(table.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    if (allowed.length === 0) return problemResponse(c, notFound());
    return problemResponse(
      c,
      new ProblemError(405, "method-not-allowed", `${c.req.method} is not offered here`, {
        headers: { Allow: allowed.join(", ") },
      }),
    );
  };
}

function fromHttpException(err: HTTPException): ProblemError {
  switch (err.status) {
    case 400:
      return new ProblemError(400, "malformed-request", err.message || "The request could not be read");
    case 413:
      return new ProblemError(413, "body-too-large", "The request body is too large");
    case 415:
      return new ProblemError(415, "unsupported-media-type", "Send the body as application/json");
    default:
      return new ProblemError(err.status, "http-error", err.message || TITLES[err.status] || "Error");
  }
}

/** SQLSTATEs a request can legitimately cause, mapped to client errors instead of 500s. */
function fromDatabaseError(err: unknown): ProblemError | null {
  const code = sqlState(err);
  switch (code) {
    case "23505":
      return new ProblemError(409, "conflict", "A record with these values already exists");
    case "23P01":
      return new ProblemError(409, "conflict", "This conflicts with an existing record");
    case "23503":
      return new ProblemError(422, "invalid-reference", "A referenced record does not exist");
    case "22021": // a NUL or an invalid byte in text
    case "22P05": // untranslatable character (e.g. a lone surrogate in JSON)
    case "22P02": // invalid text representation
      return new ProblemError(422, "invalid-text", "A value contains characters that cannot be stored");
    case "23514":
      return new ProblemError(422, "constraint-violation", "A value is outside what is allowed");
    default:
      // Class 22 (data exception: out of range, overflow, bad format) is always the input's fault.
      if (code?.startsWith("22")) {
        return new ProblemError(422, "constraint-violation", "A value is outside what is allowed");
      }
      return null;
  }
}

/** The SQLSTATE of a driver error (pglite and pg put it on `code`; drizzle wraps it in `cause`). */
export function sqlState(err: unknown): string | undefined {
  return driverError(err)?.code;
}

/** The constraint a driver error names, if any. */
export function sqlConstraint(err: unknown): string | undefined {
  return driverError(err)?.constraint;
}

function driverError(err: unknown): { code: string; constraint?: string } | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 5;
    e = e.cause as typeof e, i++
  ) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e as { code: string; constraint?: string };
  }
  return undefined;
}

/** Turns zod issues into field errors with JSON pointers (RFC 6901). */
export function fieldErrors(error: z.ZodError, target: "json" | "form" | "query" | "param" | string): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const paths = issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
    const detail = issue.code === "unrecognized_keys" ? "Unknown or read-only field" : issue.message;
    for (const path of paths) {
      if (target === "query") out.push({ parameter: String(path[0] ?? ""), detail });
      else out.push({ pointer: toPointer(path), detail });
    }
  }
  return out;
}

function toPointer(path: PropertyKey[]): string {
  return path.map((p) => "/" + String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/** The one validator hook: body errors 422 with pointers, query 400, path ids 404. */
export function validationHook(
  result: { success: boolean; error?: z.ZodError; target: string },
  c: Context<AppEnv>,
): Response | undefined {
  if (result.success || !result.error) return undefined;
  if (result.target === "param") return problemResponse(c, notFound());
  const errors = fieldErrors(result.error, result.target);
  if (result.target === "query") {
    return problemResponse(c, new ProblemError(400, "invalid-parameters", "Query parameters are invalid", { errors }));
  }
  return problemResponse(c, new ProblemError(422, "validation", "The request body is invalid", { errors }));
}
