import { z } from "zod";

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
  RATE_LIMIT_LOGIN_PER_USER: positiveInt.default(10),
  RATE_LIMIT_LOGIN_PER_IP: positiveInt.default(100),
  RATE_LIMIT_FORGOT_PER_EMAIL: positiveInt.default(3),
  RATE_LIMIT_FORGOT_PER_IP: positiveInt.default(20),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(900),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
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
  if (env.APP_ENV !== "production") return;
  for (const key of ["JWT_PRIVATE_KEY", "DATABASE_URL", "PUBLIC_URL"] as const) {
    if (!env[key]) ctx.addIssue({ code: "custom", path: [key], message: "is required when APP_ENV=production" });
  }
  for (const problem of insecureInProduction(env)) ctx.addIssue({ code: "custom", ...problem });
});

/** Settings production refuses: links, mail and browser origins that would travel or stay in clear. */
function insecureInProduction(env: {
  PUBLIC_URL?: string;
  MAIL_TRANSPORT: string;
  SMTP_SECURITY: string;
  SMTP_ALLOW_INSECURE: boolean;
  CORS_ORIGINS: string[];
}): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  if (env.PUBLIC_URL && !env.PUBLIC_URL.startsWith("https://")) {
    out.push({ path: ["PUBLIC_URL"], message: "must be https:// when APP_ENV=production (reset links carry tokens)" });
  }
  if (env.MAIL_TRANSPORT === "file") {
    out.push({
      path: ["MAIL_TRANSPORT"],
      message: "must not be file when APP_ENV=production (reset links would sit on disk); use smtp",
    });
  }
  if (env.MAIL_TRANSPORT === "smtp" && env.SMTP_SECURITY === "none" && !env.SMTP_ALLOW_INSECURE) {
    out.push({
      path: ["SMTP_SECURITY"],
      message:
        "none is refused when APP_ENV=production; use tls or starttls, or set SMTP_ALLOW_INSECURE=1 for a local relay",
    });
  }
  const plain = env.CORS_ORIGINS.filter((o) => o.startsWith("http://"));
  if (plain.length > 0) {
    out.push({
      path: ["CORS_ORIGINS"],
      message: `must be https:// origins when APP_ENV=production (${plain.join(", ")})`,
    });
  }
  return out;
}

/** `scheme://host[:port]` exactly as a browser sends it in `Origin` (no path, no wildcard). */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === text && !text.includes("*");
  } catch {
    return false;
  }
}

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
