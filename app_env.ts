import type { Config } from "./config.ts";
import type { IdempotencyClaim } from "./middleware/idempotency.ts";
import type { DatabaseAvailability } from "./db/availability.ts";
import type { Database } from "./db/client.ts";
import type { AccessTokenSettings } from "./services/access_tokens.ts";
import type { AuditAction } from "./services/audit.ts";
import type { BackgroundTasks } from "./services/background.ts";
import type { Clock } from "./services/clock.ts";
import type { Logger } from "./services/logger.ts";
import type { Mailer } from "./services/mail.ts";
import type { Permission } from "./services/permissions.ts";

/** What the app is built from; tests build it with their own database, clock and mailer. */
export interface AppDeps {
  config: Config;
  db: Database;
  driver: "pglite" | "neon";
  /** Whether the database answers; drives `/ready` and outage logging. */
  availability: DatabaseAvailability;
  tokens: AccessTokenSettings;
  clock: Clock;
  mailer: Mailer;
  logger: Logger;
  background: BackgroundTasks;
}

/** The signed-in caller, loaded fresh from the database on every request. */
export interface Principal {
  userId: number;
  sessionId: string;
  username: string;
  roles: string[];
  permissions: ReadonlySet<Permission>;
}

/** `any`: every row; `patient`: own records or of patients under care; `self`: the caller's own. */
export type RowScope = { kind: "any" } | { kind: "patient"; userId: number } | { kind: "self"; userId: number };

export type AppEnv = {
  Variables: {
    deps: AppDeps;
    logger: Logger;
    requestId: string;
    clientIp: string | null;
    userAgent: string | null;
    principal?: Principal;
    /** The rows the caller may reach on this route, from its declaration and their permissions. */
    scope?: RowScope;
    auditSpec?: { action: AuditAction; table: string };
    /** The request's Idempotency-Key, claimed by the transaction of the change it guards. */
    idempotency?: IdempotencyClaim;
  };
};
