/** Builds the real app on a fresh database for each test, plus factories for its actors. */
import { eq } from "drizzle-orm";
import { createApp } from "../app.ts";
import type { AppDeps } from "../services/deps.ts";
import { loadConfig } from "../config.ts";
import { doctorProfiles, users } from "../db/schema.ts";
import { generateSigningJwk, importSigningKey } from "../services/access_tokens.ts";
import { importAuditKey } from "../services/audit_key.ts";
import { sealAuditTrail, type SealResult } from "../services/audit_sealer.ts";
import { createBackgroundTasks } from "../services/background.ts";
import { createLogger } from "../services/logger.ts";
import { fileMailer } from "../services/mail.ts";
import { createPaymentProvider } from "../services/payment_providers/index.ts";
import { hashPassword } from "../services/passwords.ts";
import { createAccount } from "../db/users.ts";
import { DRIVER, freshDatabase, type TestDatabase } from "./_db.ts";

export { DRIVER };

/** A clock tests move by hand. */
export class TestClock {
  constructor(public current = new Date()) {}
  now = () => new Date(this.current);
  advance(seconds: number) {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

export interface Actor {
  id: number;
  username: string;
  email: string;
  password: string;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  raw?: string | Uint8Array;
  token?: string;
  headers?: Record<string, string>;
  ip?: string;
}

const signingJwk = generateSigningJwk();
/** The audit HMAC key of every test app (tests that need another make their own). */
export const TEST_AUDIT_KEY = crypto.getRandomValues(new Uint8Array(32));
const passwordHashes = new Map<string, Promise<string>>();
export const DEFAULT_PASSWORD = "Tr0ub4dor&3-horse";

export class TestApp {
  readonly app: ReturnType<typeof createApp>;
  private counter = 0;

  constructor(
    readonly deps: AppDeps,
    readonly database: TestDatabase,
    readonly clock: TestClock,
    readonly mailDir: string,
  ) {
    this.app = createApp(deps);
  }

  get db() {
    return this.deps.db;
  }

  /** A real HTTP round trip through the app's fetch handler. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    let body: BodyInit | undefined;
    if (options.raw !== undefined) body = options.raw as BodyInit;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const env = { remoteAddr: { hostname: options.ip ?? "192.0.2.1", port: 40000, transport: "tcp" } };
    const res = await this.app.request(path, { method, headers, body }, env);
    // An event stream stays open: its status and headers are the answer (stream tests read it with raw()).
    if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
      await res.body?.cancel();
      return { status: res.status, headers: res.headers, body: {}, text: "" };
    }
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = {};
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  /** The raw response, body unread (event streams). */
  raw(path: string, options: { token?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const env = { remoteAddr: { hostname: "192.0.2.1", port: 40000, transport: "tcp" } };
    return Promise.resolve(this.app.request(path, { headers }, env));
  }

  private unique(prefix: string) {
    return `${prefix}${++this.counter}_${crypto.randomUUID().slice(0, 6)}`;
  }

  /** Creates a user directly (fast path); `register()` exercises the HTTP route instead. */
  async makeUser(roleNames: string[], overrides: Partial<Actor> = {}): Promise<Actor> {
    const username = overrides.username ?? this.unique(roleNames[0] ?? "user");
    const email = overrides.email ?? `${username}@example.test`;
    const password = overrides.password ?? DEFAULT_PASSWORD;
    if (!passwordHashes.has(password)) passwordHashes.set(password, hashPassword(password));
    const user = await createAccount(this.db, {
      username,
      email,
      passwordHash: await passwordHashes.get(password)!,
      roleNames,
      patientProfile: roleNames.includes("patient") ? { firstName: "Pat", lastName: username } : undefined,
    });
    if (roleNames.includes("doctor")) {
      await this.db.insert(doctorProfiles).values({ userId: user.id, firstName: "Doc", lastName: username });
    }
    return { id: user.id, username, email: email.toLowerCase(), password };
  }

  makePatient(overrides: Partial<Actor> = {}) {
    return this.makeUser(["patient"], overrides);
  }
  makeDoctor(overrides: Partial<Actor> = {}) {
    return this.makeUser(["doctor"], overrides);
  }
  makeAdmin(overrides: Partial<Actor> = {}) {
    return this.makeUser(["admin"], overrides);
  }

  async setStatus(user: Actor, status: "active" | "suspended" | "deactivated") {
    await this.db.update(users).set({ accountStatus: status }).where(eq(users.id, user.id));
  }

  /** Signs in through POST /token/ and returns the pair. */
  async signIn(user: Actor): Promise<{ access: string; refresh: string }> {
    const res = await this.request("POST", "/token/", { body: { username: user.username, password: user.password } });
    if (res.status !== 200) throw new Error(`sign-in failed for ${user.username}: ${res.status} ${res.text}`);
    return res.body as { access: string; refresh: string };
  }

  /** Seals the audit rows written so far, as the background sealer would. */
  seal(): Promise<SealResult> {
    return sealAuditTrail(this.db, this.deps.auditKeys, { clock: this.clock.now });
  }

  /** The messages the file mail transport wrote, oldest first, with quoted-printable decoded. */
  async mails(): Promise<string[]> {
    await this.deps.background.settle();
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.mailDir)) names.push(entry.name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    const raw = await Promise.all(names.sort().map((n) => Deno.readTextFile(`${this.mailDir}/${n}`)));
    return raw.map(decodeQuotedPrintable);
  }
}

export interface TestAppOptions {
  env?: Record<string, string>;
}

export async function makeTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = await Deno.makeTempDir({ prefix: "portal-test-" });
  const config = loadConfig({
    APP_ENV: "test",
    DATA_DIR: dataDir,
    LOG_LEVEL: Deno.env.get("TEST_LOG_LEVEL") ?? "silent",
    ...options.env,
  });
  const database = await freshDatabase({
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
  });
  const clock = new TestClock();
  const logger = createLogger(config.LOG_LEVEL);
  const mailDir = `${dataDir}/mail`;
  const deps: AppDeps = {
    config,
    db: database.db,
    driver: database.driver,
    availability: database.availability,
    listen: database.listen,
    onReconnect: database.onReconnect,
    clock: clock.now,
    logger,
    mailer: fileMailer(config.MAIL_FROM, mailDir),
    background: createBackgroundTasks(logger),
    paymentProvider: createPaymentProvider(config, clock.now),
    auditKeys: await importAuditKey(TEST_AUDIT_KEY),
    tokens: {
      keys: await importSigningKey(await signingJwk),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      clock: clock.now,
    },
  };
  return new TestApp(deps, database, clock, mailDir);
}

/**
 * A test with its own app and database, disposed afterwards. Deno's op and resource sanitizers
 * are off: PGlite's shared template arms WASM interval timers, and the Neon pool's WebSockets
 * close after the test body ends; neither is a leak of the code under test.
 */
export function appTest(
  name: string,
  fn: (t: Deno.TestContext, api: TestApp) => Promise<void>,
  options: TestAppOptions = {},
) {
  Deno.test({
    name: `${name} [${DRIVER}]`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const api = await makeTestApp(options);
      try {
        await fn(t, api);
      } finally {
        await api.deps.background.settle();
        await api.database.dispose();
        await Deno.remove(api.deps.config.DATA_DIR, { recursive: true }).catch(() => {});
      }
    },
  });
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, "").replace(
    /=([0-9A-F]{2})/g,
    (_, hex) => String.fromCharCode(parseInt(hex, 16)),
  );
  return new TextDecoder().decode(Uint8Array.from(bytes, (ch) => ch.charCodeAt(0)));
}
