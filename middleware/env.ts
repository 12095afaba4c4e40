import type { RequestOrigin } from "../db/audit_logs.ts";
import type { PolicyName } from "../db/policies.ts";
import type { Scope } from "../db/scope.ts";
import type { AppDeps } from "../services/deps.ts";
import type { IdempotencyClaim } from "../services/idempotency.ts";
import type { Logger } from "../services/logger.ts";
import type { Principal } from "../services/sessions.ts";
import type { AuditTarget } from "../services/unit_of_work.ts";

/** What Hono's context carries through a request. */
export type AppEnv = {
  Variables: {
    deps: AppDeps;
    logger: Logger;
    requestId: string;
    origin: RequestOrigin;
    principal?: Principal;
    /** The route's access rule bound to the caller, set when access is checked. */
    scope?: Scope<PolicyName>;
    /** What the route records in the audit trail. */
    audit?: AuditTarget;
    /** Set once a record of this request is written. */
    audited?: boolean;
    /** The type slug of the problem the request was answered with, if any (the reason of its record). */
    problem?: string;
    /** The request's Idempotency-Key, claimed by the transaction of the change it guards. */
    idempotency?: IdempotencyClaim;
    /** Set on the admin console's requests: its audit records say `details.via = "console"`. */
    via?: "console";
    /** The console form token of the signed-in session (every form of a console page carries it). */
    csrf?: string;
  };
};
