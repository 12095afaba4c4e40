import type { Config } from "../config.ts";
import type { DatabaseAvailability } from "../db/availability.ts";
import { type Database, type DatabaseHandle, openConfiguredDatabase } from "../db/client.ts";
import type { PolicyName } from "../db/policies.ts";
import type { AccessTokenSettings } from "./access_tokens.ts";
import { type AuditKeys, loadAuditKey } from "./audit_key.ts";
import { type BackgroundTasks, createBackgroundTasks } from "./background.ts";
import { type Clock, systemClock } from "./clock.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMailer, type Mailer } from "./mail.ts";
import { createPaymentProvider, type PaymentProvider } from "./payment_providers/index.ts";
import { usePasswordHasher } from "./passwords.ts";
import { loadSigningKey } from "./signing_key.ts";

/** What the app is built from; tests build it with their own database, clock and mailer. */
export interface AppDeps {
  config: Config;
  db: Database;
  driver: "pglite" | "neon" | "postgres";
  /** Whether the database answers; drives `/ready` and outage logging. */
  availability: DatabaseAvailability;
  /** NOTIFY from every instance (the real-time stream's fan-out), and word of a lost listening connection. */
  listen: DatabaseHandle["listen"];
  onReconnect: DatabaseHandle["onReconnect"];
  tokens: AccessTokenSettings;
  /** The audit chain's HMAC keys (from AUDIT_HMAC_KEY, outside the database). */
  auditKeys: AuditKeys;
  clock: Clock;
  mailer: Mailer;
  logger: Logger;
  background: BackgroundTasks;
  /** Who takes payments (`PAYMENT_PROVIDER`). */
  paymentProvider: PaymentProvider;
  /** Told which policy each scoped query applied, per request (the authorization matrix checks it). */
  onPolicyApplied?: (requestId: string, policy: PolicyName) => void;
}

/**
 * Opens what the configuration names. The embedded database migrates itself on start; a shared
 * Postgres is migrated by `deno task migrate` (one deploy step, not every instance at once).
 */
export async function buildDeps(
  config: Config,
  options: { migrate?: boolean } = {},
): Promise<{ deps: AppDeps; handle: DatabaseHandle }> {
  const logger = createLogger(config.LOG_LEVEL);
  // First: PASSWORD_HASHER=native where the addon cannot load is a configuration error, said at once.
  await usePasswordHasher(config.PASSWORD_HASHER).catch((e) => {
    throw new Error(`PASSWORD_HASHER=native but the argon2 addon does not load here: ${String(e?.message ?? e)}`);
  });
  const handle = await openConfiguredDatabase(config, logger);
  if (options.migrate ?? handle.driver === "pglite") {
    await handle.migrate();
  }
  const deps: AppDeps = {
    config,
    db: handle.db,
    driver: handle.driver,
    availability: handle.availability,
    listen: handle.listen,
    onReconnect: handle.onReconnect,
    clock: systemClock,
    logger,
    mailer: createMailer(config, logger),
    background: createBackgroundTasks(logger),
    paymentProvider: createPaymentProvider(config, systemClock),
    auditKeys: await loadAuditKey(config),
    tokens: {
      keys: await loadSigningKey(config),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      clock: systemClock,
    },
  };
  return { deps, handle };
}
