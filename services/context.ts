/**
 * What a service is given: who asks, from where, when, the rows they reach and the unit of work
 * to run in. Plain data, so services know nothing of HTTP.
 */
import type { RequestOrigin } from "../db/audit_logs.ts";
import { POLICIES, type PolicyName, type PolicyOf } from "../db/policies.ts";
import type { Scope } from "../db/scope.ts";
import { Unauthenticated } from "../errors.ts";
import type { AppDeps } from "./deps.ts";
import type { Principal } from "./sessions.ts";
import type { UnitOfWork } from "./unit_of_work.ts";

export interface ServiceContext {
  deps: AppDeps;
  /** The signed-in caller; null on public routes. */
  actor: Principal | null;
  origin: RequestOrigin;
  now: Date;
  /** The route's access rule bound to the caller (routes without a policy have none). */
  scope?: Scope<PolicyName>;
  uow: UnitOfWork;
  /** The request's `Idempotency-Key`, when it sent one (a provider call derives its own key from it). */
  idempotencyKey?: string;
}

/** The signed-in caller (only on routes that require one). */
export function actorOf(ctx: ServiceContext): Principal {
  if (!ctx.actor) throw new Unauthenticated("not-authenticated", "Authentication required");
  return ctx.actor;
}

/** The bound scope, checked to be a policy of `table`: a route cannot read one table through another's policy. */
export function scopeOf<T extends string>(ctx: ServiceContext, table: T): Scope<PolicyOf<T>> {
  const scope = ctx.scope;
  if (!scope) throw new Error(`no access rule is bound for ${table}`);
  const policyTable = POLICIES[scope.policy].table;
  if (policyTable !== table && policyTable !== "*") {
    throw new Error(`policy ${scope.policy} is for ${policyTable}, not ${table}`);
  }
  return scope as Scope<PolicyOf<T>>;
}
