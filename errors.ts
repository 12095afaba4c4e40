/**
 * Domain errors: what went wrong, in the application's words, with no HTTP in them. Services and
 * the data layer throw these; one renderer (middleware/problem.ts) turns each kind into an RFC 9457
 * problem. This module imports nothing else from the app.
 */

/** One field-level problem: a JSON pointer into the body, or a query parameter or header name. */
export interface FieldIssue {
  pointer?: string;
  parameter?: string;
  detail: string;
}

export type ErrorKind =
  | "malformed"
  | "unauthenticated"
  | "forbidden"
  | "not-found"
  | "not-allowed"
  | "conflict"
  | "too-large"
  | "unsupported-type"
  | "invalid"
  | "rate-limited"
  | "unavailable";

export interface ErrorDetails {
  /** Field-level problems (validation). */
  errors?: FieldIssue[];
  /** Extra members of the problem (e.g. `conflicting_time`); never secrets or other users' data. */
  members?: Record<string, unknown>;
  /** Seconds after which a retry may succeed (rate limits, outages). */
  retryAfterSeconds?: number;
  /** Methods the resource does offer (not-allowed). */
  allow?: string[];
  /** A short title replacing the standard one. */
  title?: string;
}

/** Base of every domain error: a kind (what the caller did or met), a stable slug, a sentence. */
export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly slug: string,
    readonly detail: string,
    readonly details: ErrorDetails = {},
  ) {
    super(detail);
  }
}

export class NotFound extends DomainError {
  constructor(detail = "The requested resource was not found") {
    super("not-found", "not-found", detail);
  }
}

export class Forbidden extends DomainError {
  constructor(detail = "You do not have permission to do this", slug = "forbidden") {
    super("forbidden", slug, detail);
  }
}

export class Unauthenticated extends DomainError {
  constructor(slug: string, detail: string) {
    super("unauthenticated", slug, detail);
  }
}

/** The request's content breaks a rule: field pointers say where. */
export class Invalid extends DomainError {
  constructor(errors: FieldIssue[], detail = "The request body is invalid", slug = "validation") {
    super("invalid", slug, detail, { errors });
  }
}

/** One field is wrong: the usual case of `Invalid`. */
export function invalid(pointer: string, detail: string, summary?: string): Invalid {
  return new Invalid([{ pointer, detail }], summary);
}

export class Conflict extends DomainError {
  constructor(
    slug: string,
    detail: string,
    details: Pick<ErrorDetails, "errors" | "members" | "retryAfterSeconds"> = {},
  ) {
    super("conflict", slug, detail, details);
  }
}

export class RateLimited extends DomainError {
  constructor(retryAfterSeconds: number, detail = "Too many attempts; try again later") {
    super("rate-limited", "rate-limited", detail, { retryAfterSeconds });
  }
}

/** Something the request needs is down (the database, the audit trail, a provider): retry later. */
export class Unavailable extends DomainError {
  /** `cause`: the driver's error behind it, so the log can tell an outage from load. */
  constructor(slug: string, detail: string, retryAfterSeconds?: number, cause?: unknown) {
    super("unavailable", slug, detail, { retryAfterSeconds });
    if (cause !== undefined) this.cause = cause;
  }
}

/** The request cannot be read as sent (a bad cursor, a malformed header, an unusable token). */
export class Malformed extends DomainError {
  constructor(slug: string, detail: string, errors?: FieldIssue[]) {
    super("malformed", slug, detail, { errors });
  }
}

export class TooLarge extends DomainError {
  constructor(slug: string, detail: string, errors?: FieldIssue[]) {
    super("too-large", slug, detail, { errors });
  }
}

export class UnsupportedType extends DomainError {
  constructor(slug: string, detail: string, errors?: FieldIssue[]) {
    super("unsupported-type", slug, detail, { errors });
  }
}

export class NotAllowed extends DomainError {
  constructor(detail: string, allow: string[]) {
    super("not-allowed", "method-not-allowed", detail, { allow });
  }
}

/** The audit record of a request could not be written: the request is refused, with no data. */
export function auditUnavailable(): Unavailable {
  return new Unavailable("audit-unavailable", "The request could not be recorded; try again later");
}
