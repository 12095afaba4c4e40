import { z } from "zod";
import { insecureInProduction, isOrigin, paymentProblems } from "./config_checks.ts";

/** Everything the server reads from its environment, validated once at start-up. */
export type Config = z.infer<typeof configSchema>;

const positiveInt = z.coerce.number().int().positive();
/** An explicit yes/no setting: `1`/`true` or `0`/`false`. */
const flag = z.enum(["1", "true", "0", "false"]).default("false").transform((v) => v === "1" || v === "true");

const configSchema = z.object({
  APP_ENV: z.enum(["development", "test", "production"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Address to listen on: every interface by default (containers); `127.0.0.1` keeps it on this machine. */
  HOST: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, "must be a host name or an IP address").default("0.0.0.0"),
  /** On SIGTERM/SIGINT, how long requests in flight (uploads included) may take to finish before the exit. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  DATABASE_URL: z.string().optional().refine(
    (url) => url === undefined || url === "memory://" || /^postgres(ql)?:\/\//.test(url),
    "must be memory:// or a postgres:// URL",
  ),
  DATA_DIR: z.string().min(1).default("./data"),
  /** Templates for the embedded database's first start; unset: `~/.cache/patient-portal/pglite-templates`; `off`: none. */
  PGLITE_TEMPLATE_DIR: z.string().optional(),
  /** A server database's driver: unset = Neon's for `*.neon.tech`, postgres.js over TCP for any other host. */
  DATABASE_DRIVER: z.enum(["neon", "postgres"]).optional(),
  /** host:port of a WebSocket-to-TCP proxy, for a plain Postgres reached through the Neon driver. */
  NEON_WS_PROXY: z.string().optional(),
  /** Bounds on a server database: connecting (or waiting for a pooled connection), and one statement. */
  DB_CONNECT_TIMEOUT_MS: positiveInt.max(60_000).default(2000),
  DB_QUERY_TIMEOUT_MS: positiveInt.max(600_000).default(5000),
  DB_POOL_MAX: positiveInt.max(500).default(10),
  /** `1`: create the Postgres database named in DATABASE_URL when it does not exist (server and tasks). */
  DB_CREATE: flag,
  /** How long a request waits for another with the same Idempotency-Key before answering 409 (below the query timeout). */
  IDEMPOTENCY_WAIT_MS: positiveInt.max(60_000).default(3000),
  /** `Retry-After` (seconds) on 503 answers while the database is unavailable. */
  DB_RETRY_AFTER_SECONDS: positiveInt.max(3600).default(2),
  PUBLIC_URL: z.url().optional(),
  MAIL_TRANSPORT: z.enum(["file", "smtp", "log"]).default("file"),
  MAIL_DIR: z.string().optional(),
  MAIL_FROM: z.string().default("Patient Portal <no-reply@localhost>"),
  SMTP_HOST: z.string().optional(),
  SMTP_PORT: positiveInt.default(587),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  /** `tls`: implicit TLS (port 465); `starttls`: upgrade required; `none`: plain (local relays only). */
  SMTP_SECURITY: z.enum(["tls", "starttls", "none"]).default("starttls"),
  /** Production refuses `SMTP_SECURITY=none` unless this says the relay is trusted (e.g. on the same host). */
  SMTP_ALLOW_INSECURE: flag,
  /** Ed25519 private key as a JWK (JSON) used to sign access tokens. */
  JWT_PRIVATE_KEY: z.string().optional(),
  /** Public JWKs (a JSON array) of retired signing keys whose tokens are still accepted, by `kid`. */
  JWT_PUBLIC_KEYS: z.string().optional().refine((text) => {
    if (text === undefined) return true;
    try {
      return Array.isArray(JSON.parse(text));
    } catch {
      return false;
    }
  }, "must be a JSON array of public JWKs"),
  JWT_ISSUER: z.string().min(1).default("patient-portal"),
  JWT_AUDIENCE: z.string().min(1).default("patient-portal-api"),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.max(600).default(300),
  /** Header a trusted reverse proxy sets to the client address (e.g. x-forwarded-for); unset: none trusted. */
  TRUSTED_PROXY_HEADER: z.string().toLowerCase().optional(),
  /** Which entry of that header, counted from the right, the trusted proxies appended (1: the right-most). */
  TRUSTED_PROXY_HOPS: positiveInt.max(10).default(1),
  /** HMAC-SHA256 key of the audit chain (base64, at least 32 bytes); kept outside the database. */
  AUDIT_HMAC_KEY: z.string().optional().refine(
    (key) => key === undefined || auditKeyBytes(key) !== null,
    "must be base64 of at least 32 bytes (e.g. openssl rand -base64 32)",
  ),
  /** The page a password-reset link opens (`?token=` is appended); default: the API's own form. */
  RESET_URL: z.url().optional(),
  /** The admin console signs a session out after this many minutes without a request (ASVS 3.3.2). */
  CONSOLE_IDLE_MINUTES: positiveInt.max(24 * 60).default(30),
  RATE_LIMIT_LOGIN_PER_USER: positiveInt.default(10),
  RATE_LIMIT_LOGIN_PER_IP: positiveInt.default(100),
  RATE_LIMIT_FORGOT_PER_EMAIL: positiveInt.default(3),
  RATE_LIMIT_FORGOT_PER_IP: positiveInt.default(20),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(900),
  /** How often each instance looks for outbox events NOTIFY did not announce (a fallback). */
  NOTIFICATION_POLL_MS: positiveInt.max(600_000).default(1000),
  /** Reminders go out this long before an appointment; instances look for due ones this often. */
  REMINDER_LEAD_HOURS: positiveInt.max(24 * 14).default(24),
  REMINDER_SCAN_SECONDS: positiveInt.max(3600).default(60),
  /** The notification stream: a heartbeat comment at least this often, and how soon an ended session closes it. */
  STREAM_HEARTBEAT_SECONDS: positiveInt.max(25).default(20),
  STREAM_SESSION_CHECK_MS: positiveInt.max(60_000).default(2000),
  /** Longest wait a sign-in to an account under attack is held before its password is checked. */
  RATE_LIMIT_LOGIN_DELAY_MAX_MS: z.coerce.number().int().min(0).max(30_000).default(4000),
  RATE_LIMIT_REGISTER_PER_IP: positiveInt.default(10),
  RATE_LIMIT_RESET_PER_IP: positiveInt.default(20),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /** Who takes payments: `sandbox` (offline, the development default), `stripe` or `mpesa` (Safaricom Daraja). */
  PAYMENT_PROVIDER: z.enum(["sandbox", "stripe", "mpesa"]).default("sandbox"),
  /** One provider call, retries included, ends by then (below DB_QUERY_TIMEOUT_MS: it runs inside the write). */
  PAYMENT_PROVIDER_TIMEOUT_MS: positiveInt.max(60_000).default(2500),
  /** Retries of an idempotent provider call (with backoff, within the timeout). */
  PAYMENT_PROVIDER_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  /** `Retry-After` (seconds) on 503 `provider-unavailable`. */
  PAYMENT_RETRY_AFTER_SECONDS: positiveInt.max(3600).default(5),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  /** Where the Stripe API is (tests point it at a local server). */
  STRIPE_API_URL: z.url().default("https://api.stripe.com"),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: positiveInt.max(3600).default(300),
  MPESA_API_URL: z.url().default("https://sandbox.safaricom.co.ke"),
  MPESA_CONSUMER_KEY: z.string().optional(),
  MPESA_CONSUMER_SECRET: z.string().optional(),
  MPESA_SHORTCODE: z.string().regex(/^[0-9]{5,7}$/, "must be 5 to 7 digits").optional(),
  MPESA_PASSKEY: z.string().optional(),
  /** The unguessable last segment of the M-Pesa callback path (Daraja callbacks are unsigned). */
  MPESA_CALLBACK_TOKEN: z.string().regex(/^[A-Za-z0-9_-]{32,128}$/, "must be 32 to 128 URL-safe characters")
    .optional(),
  /** argon2id by the native addon (`native`, needs FFI), hash-wasm in workers (`portable`), or `auto`: native if it loads. */
  PASSWORD_HASHER: z.enum(["auto", "native", "portable"]).default("auto"),
  /** Browser origins allowed to call the API (CORS), comma-separated; `*` is refused. */
  CORS_ORIGINS: z.string().default("").transform((text, ctx) => {
    const origins = text.split(/[\s,]+/).filter(Boolean);
    for (const origin of origins) {
      if (!isOrigin(origin)) {
        ctx.addIssue({ code: "custom", message: `must list origins such as https://app.example (not ${origin})` });
      }
    }
    return origins;
  }),
}).superRefine((env, ctx) => {
  if (env.IDEMPOTENCY_WAIT_MS >= env.DB_QUERY_TIMEOUT_MS) {
    ctx.addIssue({ code: "custom", path: ["IDEMPOTENCY_WAIT_MS"], message: "must be below DB_QUERY_TIMEOUT_MS" });
  }
  if (env.MAIL_TRANSPORT === "smtp" && !env.SMTP_HOST) {
    ctx.addIssue({ code: "custom", path: ["SMTP_HOST"], message: "is required when MAIL_TRANSPORT=smtp" });
  }
  for (const problem of paymentProblems(env)) ctx.addIssue({ code: "custom", ...problem });
  if (env.APP_ENV !== "production") return;
  for (const key of ["JWT_PRIVATE_KEY", "DATABASE_URL", "PUBLIC_URL", "AUDIT_HMAC_KEY"] as const) {
    if (!env[key]) ctx.addIssue({ code: "custom", path: [key], message: "is required when APP_ENV=production" });
  }
  for (const problem of insecureInProduction(env)) ctx.addIssue({ code: "custom", ...problem });
});

/** Thrown with a one-line, human-readable reason when the environment is invalid. */
export class ConfigError extends Error {}

/** Validates an environment (defaults to the process's, with `.env` filling unset names). */
export function loadConfig(env: Record<string, string | undefined> = processEnv()): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${reasons.join("; ")}`);
  }
  return parsed.data;
}

/** Derived settings that depend on more than one variable. */
export function publicUrl(config: Config): string {
  return (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, "");
}

/** Where a password-reset link points: RESET_URL, or the API's own minimal form. */
export function resetUrl(config: Config): string {
  return config.RESET_URL ?? `${publicUrl(config)}/reset-password/`;
}

/** The bytes of an audit key written in base64 (or base64url), or null when it is not one of 32 bytes or more. */
export function auditKeyBytes(text: string): Uint8Array | null {
  try {
    const binary = atob(text.trim().replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    return bytes.length >= 32 ? bytes : null;
  } catch {
    return null;
  }
}

export function mailDir(config: Config): string {
  return config.MAIL_DIR ?? `${config.DATA_DIR}/mail`;
}

function processEnv(): Record<string, string | undefined> {
  return { ...readDotEnv(".env"), ...Deno.env.toObject() };
}

/** Minimal `.env` reader: KEY=value lines, `#` comments, optional quotes; the real environment wins. */
export function readDotEnv(path: string): Record<string, string> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const match = raw.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/);
    if (!match) continue;
    let value = match[2].trim();
    const quoted = value.match(/^(['"])(.*)\1$/);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, "");
    out[match[1]] = value;
  }
  return out;
}
