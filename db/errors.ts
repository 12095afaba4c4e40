/**
 * What a database error means for the request, next to the constraints that raise them: a
 * connection lost is "unavailable", a unique or exclusion constraint a conflict, a check or a bad
 * value a validation failure. Anything else is left to be a 500 (a bug, logged).
 */
import { Conflict, type DomainError, Invalid, Unavailable } from "../errors.ts";
import { isConnectionError } from "./availability.ts";

/** The SQLSTATE of a driver error (pglite, pg and postgres.js put it on `code`; drizzle wraps it in `cause`). */
export function sqlState(err: unknown): string | undefined {
  return driverError(err)?.code;
}

/** The constraint a driver error names, if any (postgres.js calls it `constraint_name`). */
export function sqlConstraint(err: unknown): string | undefined {
  const e = driverError(err);
  return e?.constraint ?? e?.constraint_name;
}

function driverError(err: unknown): { code: string; constraint?: string; constraint_name?: string } | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 5;
    e = e.cause as typeof e, i++
  ) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e as { code: string; constraint?: string };
  }
  return undefined;
}

/** The doctor's time is taken (`appointments_doctor_no_overlap`); the service says by what. */
export class SlotTaken extends Conflict {
  constructor() {
    super("appointment-conflict", "The doctor already has an appointment at this time");
  }
}

/** A username or e-mail another account holds (409, pointing at the field). */
export const taken = (field: "username" | "email") =>
  new Conflict("duplicate-account", `An account with this ${field} already exists`, {
    errors: [{ pointer: `/${field}`, detail: "Already taken" }],
  });

/** Constraints whose violation has a meaning of its own, by name. */
const CONSTRAINTS: Record<string, () => DomainError> = {
  users_username_lower_key: () => taken("username"),
  users_email_lower_key: () => taken("email"),
  users_username_not_email_check: () =>
    new Invalid([{ pointer: "/username", detail: "Must not contain @ (sign in by e-mail instead)" }]),
  roles_role_name_unique: () =>
    new Conflict("duplicate-role", "A role with this name already exists", {
      errors: [{ pointer: "/role_name", detail: "Already taken" }],
    }),
  user_roles_user_role_key: () => new Conflict("duplicate-assignment", "The user already holds this role"),
  patient_profiles_pkey: () => new Conflict("conflict", "This user already has a patient profile"),
  doctor_profiles_pkey: () => new Conflict("conflict", "This user already has a doctor profile"),
  appointments_doctor_no_overlap: () => new SlotTaken(),
  payments_appointment_id_appointments_id_fk: () =>
    new Conflict("conflict", "The appointment has payments; cancel it instead"),
  payments_one_pending_key: () =>
    new Conflict("payment-pending", "A payment of this appointment is still pending; complete or abandon it first"),
  payments_immutable: () => new Conflict("payment-immutable", "A payment's money fields never change"),
  payments_status_transition: () => new Conflict("invalid-transition", "The payment cannot move to this status"),
};

/**
 * The domain error a database error stands for, or undefined when it is not the request's doing
 * (then it is a bug and answers 500).
 */
export function domainErrorOf(err: unknown): DomainError | undefined {
  if (isConnectionError(err)) {
    return new Unavailable("database-unavailable", "The database is unavailable; try again shortly", undefined, err);
  }
  const code = sqlState(err);
  if (!code) return undefined;
  const named = CONSTRAINTS[sqlConstraint(err) ?? ""];
  if (named) return named();
  switch (code) {
    case "40P01": // deadlock detected: Postgres gave this transaction up in favour of another
    case "40001": // serialization failure
      return new Unavailable("transaction-conflict", "The request met another one at the same moment; try again", 1);
    case "23505":
      return new Conflict("conflict", "A record with these values already exists");
    case "23P01":
      return new Conflict("conflict", "This conflicts with an existing record");
    case "23503":
      return new Invalid([], "A referenced record does not exist", "invalid-reference");
    case "22021": // a NUL or an invalid byte in text
    case "22P05": // untranslatable character (e.g. a lone surrogate in JSON)
    case "22P02": // invalid text representation
      return new Invalid([], "A value contains characters that cannot be stored", "invalid-text");
    case "23514":
      return new Invalid([], "A value is outside what is allowed", "constraint-violation");
    default:
      // Class 22 (data exception: out of range, overflow, bad format) is always the input's fault.
      return code.startsWith("22")
        ? new Invalid([], "A value is outside what is allowed", "constraint-violation")
        : undefined;
  }
}
