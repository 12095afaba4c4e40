/**
 * A route's access rule, bound to the caller when access is checked: the policy the route
 * declares, the caller, and whether they hold the permission that lifts it. Repositories take a
 * bound scope and ask it for the predicate; a row they return through it is marked `InScope`,
 * and only such a row can be changed or deleted.
 */
import type { SQL } from "drizzle-orm";
import { POLICIES, type PolicyName } from "./policies.ts";

export interface Scope<N extends PolicyName = PolicyName> {
  readonly policy: N;
  /** The caller's user id. */
  readonly actor: number;
  /** Holds the permission that reaches every row (or the policy is `all`). */
  readonly unrestricted: boolean;
  /** Told each time a repository applies the scope (tests compare it with the declaration). */
  readonly onApply?: (policy: PolicyName) => void;
}

export function bindScope<N extends PolicyName>(
  policy: N,
  actor: number,
  unrestricted: boolean,
  onApply?: (policy: PolicyName) => void,
): Scope<N> {
  return { policy, actor, unrestricted: unrestricted || policy === "all", onApply };
}

/** The ownership predicate of a scope; `undefined` means every row. */
export function restrict(scope: Scope): SQL | undefined {
  scope.onApply?.(scope.policy);
  return scope.unrestricted ? undefined : POLICIES[scope.policy].where(scope.actor);
}

declare const inScope: unique symbol;
/** A row read through a scope: the only kind a repository changes or deletes. */
export type InScope<T> = T & { readonly [inScope]: true };

/** For repositories only: marks rows a scoped query returned. */
export function inScopeRow<T>(row: T): InScope<T>;
export function inScopeRow<T>(row: T | undefined): InScope<T> | undefined;
export function inScopeRow<T>(row: T | undefined): InScope<T> | undefined {
  return row as InScope<T> | undefined;
}
