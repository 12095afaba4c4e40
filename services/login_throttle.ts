/**
 * How sign-in attempts are throttled, in the database (every instance shares the counts):
 *
 * - per client address, every attempt (`RATE_LIMIT_LOGIN_PER_IP`);
 * - per account *and* client address, attempts that fail (`RATE_LIMIT_LOGIN_PER_USER`): a hard
 *   limit (429) that only the address making the attempts runs into, so a stranger guessing at an
 *   account cannot lock its owner out from elsewhere;
 * - per account, attempts from everywhere: past the same number, each attempt waits before its
 *   password is checked, doubling from 250 ms up to `RATE_LIMIT_LOGIN_DELAY_MAX_MS`, which slows
 *   guessing from many addresses while the owner's right password still works.
 *
 * OWASP Authentication Cheat Sheet, "Account Lockout" (a lockout an attacker can trigger is a
 * denial of service; prefer throttling and increasing delays) and ASVS 2.2.1 ("soft lockouts, rate
 * limiting, ever increasing delays between attempts"). Each count is reserved by one atomic
 * upsert *before* the password is checked (the three in one statement, each only when the one
 * before is within its limit), so concurrent attempts cannot overrun it; a right password gives its
 * reservation back. An account is counted by its id, whichever of its username or e-mail is typed;
 * a name that is no account by its normalised spelling (only its hash is kept).
 */
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { clientKey, hitInOrder, type Limit, type LimitState, release } from "./rate_limit.ts";

export interface LoginAttempt {
  /** Refused outright (429): this address is over a limit. */
  refused: LimitState | null;
  /** How long to wait before checking the password. */
  delayMs: number;
  /** Gives the reservations back (the password was right). */
  succeeded(): Promise<void>;
}

/** The wait before the (n)th attempt on one account within a window, all addresses counted. */
export function loginDelayMs(attempts: number, threshold: number, maxMs: number): number {
  if (attempts <= threshold) return 0;
  return Math.min(maxMs, 250 * 2 ** Math.min(attempts - threshold - 1, 16));
}

/** The spelling of a login name that counts as the same name: case, width and spaces aside. */
export function normalisedLogin(login: string): string {
  return login.normalize("NFKC").trim().toLowerCase();
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reserves one attempt on `accountId` (or, for no account, on the name as typed) from `address`. */
export async function reserveLoginAttempt(
  db: Database,
  config: Config,
  subject: { accountId: number | null; login: string },
  address: string | null,
  now: Date,
): Promise<LoginAttempt> {
  const windowSeconds = config.RATE_LIMIT_WINDOW_SECONDS;
  const ip = clientKey(address);
  const account = subject.accountId !== null
    ? `account:${subject.accountId}`
    : `name:${await sha256(normalisedLogin(subject.login))}`;
  const perIp: Limit = { bucket: `login:ip:${ip}`, max: config.RATE_LIMIT_LOGIN_PER_IP, windowSeconds };
  const perPair: Limit = {
    bucket: `login:${account}:ip:${ip}`,
    max: config.RATE_LIMIT_LOGIN_PER_USER,
    windowSeconds,
  };
  const perAccount: Limit = { bucket: `login:${account}`, max: Number.MAX_SAFE_INTEGER, windowSeconds };
  const none = { refused: null, delayMs: 0, succeeded: () => Promise.resolve() };
  const [ipState, pair, all] = await hitInOrder(db, [perIp, perPair, perAccount], now);
  if (ipState.limited) return { ...none, refused: ipState };
  if (pair.limited) return { ...none, refused: pair };
  return {
    refused: null,
    delayMs: loginDelayMs(all.hits, config.RATE_LIMIT_LOGIN_PER_USER, config.RATE_LIMIT_LOGIN_DELAY_MAX_MS),
    succeeded: () => release(db, perPair, perAccount),
  };
}
