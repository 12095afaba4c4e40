/**
 * The one renderer of errors: domain errors, Hono's HTTP errors and zod failures become RFC 9457
 * `application/problem+json` with a stable `type`. A 500 says only "Internal Server Error" and
 * the request id; the detail goes to the log.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { domainErrorOf, sqlState } from "../db/errors.ts";
import { DomainError, type ErrorKind, type FieldIssue, Invalid, Malformed, NotAllowed, NotFound } from "../errors.ts";
import type { AppEnv } from "./env.ts";

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

export const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  malformed: 400,
  unauthenticated: 401,
  forbidden: 403,
  "not-found": 404,
  "not-allowed": 405,
  conflict: 409,
  "too-large": 413,
  "unsupported-type": 415,
  invalid: 422,
  "rate-limited": 429,
  unavailable: 503,
};

/** Stable problem `type` URIs; clients may switch on them. */
export function problemType(slug: string): string {
  return `urn:problem-type:patient-portal:${slug}`;
}

/** The problem+json response for a domain error. */
export function problemResponse(c: Context<AppEnv>, error: DomainError): Response {
  const status = STATUS[error.kind];
  c.set("problem", error.slug);
  const { errors, members, retryAfterSeconds, allow, title } = error.details;
  const body: Record<string, unknown> = {
    type: problemType(error.slug),
    title: title ?? TITLES[status] ?? "Error",
    status,
    detail: error.detail,
    request_id: c.get("requestId") ?? null,
    ...members,
  };
  if (errors?.length) body.errors = errors;
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (status === 503 || status === 429) {
    const fallback = c.get("deps")?.config.DB_RETRY_AFTER_SECONDS ?? 2;
    headers["Retry-After"] = String(retryAfterSeconds ?? fallback);
  } else if (retryAfterSeconds !== undefined) headers["Retry-After"] = String(retryAfterSeconds);
  if (allow) headers.Allow = allow.join(", ");
  if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="patient-portal"';
  // c.body (not new Response) keeps headers set earlier on the context, such as X-Request-Id.
  return c.body(JSON.stringify(body), status, headers);
}

/** The one `onError`: domain errors as they are, database errors by their meaning, anything else a bare 500. */
export function onError(err: Error, c: Context<AppEnv>): Response {
  const error = err instanceof DomainError
    ? err
    : err instanceof HTTPException
    ? fromHttpException(err)
    : domainErrorOf(err);
  if (error) {
    if (error.slug === "database-unavailable") c.get("deps")?.availability.lost(err);
    return problemResponse(c, error);
  }
  // Not err.message: drizzle's "Failed query" message repeats the parameters (hashes, health data).
  c.get("logger")?.error("unhandled error", {
    request_id: c.get("requestId"),
    error: err?.name,
    sqlstate: sqlState(err),
    stack: err?.stack?.split("\n").filter((line) => line.trimStart().startsWith("at ")).join("\n"),
  });
  return internal(c);
}

function internal(c: Context<AppEnv>): Response {
  c.set("problem", "internal");
  const body = {
    type: problemType("internal"),
    title: TITLES[500],
    status: 500,
    detail: "Internal Server Error",
    request_id: c.get("requestId") ?? null,
  };
  return c.body(JSON.stringify(body), 500, { "content-type": "application/problem+json" });
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
    if (allowed.length === 0) return problemResponse(c, new NotFound());
    return problemResponse(c, new NotAllowed(`${c.req.method} is not offered here`, allowed));
  };
}

function fromHttpException(err: HTTPException): DomainError {
  switch (err.status) {
    case 400:
      return new Malformed("malformed-request", err.message || "The request could not be read");
    case 413:
      return new DomainError("too-large", "body-too-large", "The request body is too large");
    case 415:
      return new DomainError("unsupported-type", "unsupported-media-type", "Send the body as application/json");
    default:
      return new DomainError("malformed", "http-error", err.message || TITLES[err.status] || "Error");
  }
}

/** Turns zod issues into field errors with JSON pointers (RFC 6901), or parameter names for a query. */
export function fieldErrors(error: z.ZodError, target: string): FieldIssue[] {
  const out: FieldIssue[] = [];
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
  if (result.target === "param") return problemResponse(c, new NotFound());
  const errors = fieldErrors(result.error, result.target);
  if (result.target === "query") {
    return problemResponse(c, new Malformed("invalid-parameters", "Query parameters are invalid", errors));
  }
  return problemResponse(c, new Invalid(errors));
}
