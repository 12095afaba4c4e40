import { invalid } from "../errors.ts";
import { Argon2Workers, hashPortable, verifyPortable } from "./argon2_portable.ts";
import { ARGON2ID } from "./argon2_params.ts";
import { WorkQueue } from "./work_queue.ts";

/** OWASP ASVS 2.4: argon2id at services/argon2_params.ts, stored as a PHC string. */
const ARGON2_OPTIONS = {
  algorithm: 2 as const, // Algorithm.Argon2id: the const enum cannot be read under isolatedModules.
  memoryCost: ARGON2ID.memoryKiB,
  timeCost: ARGON2ID.iterations,
  parallelism: ARGON2ID.parallelism,
  outputLen: ARGON2ID.hashLength,
};

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** Computes and checks argon2id PHC strings; both kinds read what the other wrote. */
export interface PasswordHasher {
  /** `native`: @node-rs/argon2 (N-API, off the event loop); `portable`: hash-wasm in worker threads. */
  readonly kind: "native" | "portable" | "portable-inline";
  hash(password: string): Promise<string>;
  verify(phc: string, password: string): Promise<boolean>;
}

/** `auto` takes the native addon when it loads (it needs FFI) and the portable one otherwise. */
export type HasherChoice = "auto" | "native" | "portable";

/** How many hashes run at once in this instance: one per core (the portable pool has as many workers). */
export const HASH_CONCURRENCY = Math.max(1, navigator.hardwareConcurrency || 1);

/**
 * The native addon, or an error when it cannot load here (no `--allow-ffi`, no binary for the platform).
 * Its hashes wait in a queue of `concurrency`: the addon alone starts one thread per call.
 */
export async function nativeHasher(queue = new WorkQueue(HASH_CONCURRENCY)): Promise<PasswordHasher> {
  const argon2 = await import("@node-rs/argon2");
  return {
    kind: "native",
    hash: (password) => queue.run(() => argon2.hash(password, ARGON2_OPTIONS)),
    verify: (phc, password) => queue.run(() => argon2.verify(phc, password)).catch(() => false),
  };
}

/** hash-wasm in worker threads; inline (blocking the event loop, 75 ms a hash) only where no worker starts. */
export function portableHasher(workers = 2): PasswordHasher {
  let pool: Argon2Workers;
  try {
    pool = new Argon2Workers(workers);
  } catch {
    return { kind: "portable-inline", hash: hashPortable, verify: verifyPortable };
  }
  return {
    kind: "portable",
    hash: (password) => pool.hash(password),
    verify: (phc, password) => pool.verify(phc, password).catch(() => false),
  };
}

let choice: HasherChoice = "auto";
let active: Promise<PasswordHasher> | undefined;

/** Picks the hasher for this process (PASSWORD_HASHER); the server does this once at start. */
export function usePasswordHasher(next: HasherChoice): Promise<PasswordHasher> {
  choice = next;
  active = undefined;
  return passwordHasher();
}

/** The hasher in use: chosen on first use, then kept. */
export function passwordHasher(): Promise<PasswordHasher> {
  active ??= choice === "portable"
    ? Promise.resolve(portableHasher())
    : choice === "native"
    ? nativeHasher()
    : nativeHasher().catch(() => portableHasher());
  return active;
}

export async function hashPassword(password: string): Promise<string> {
  return (await passwordHasher()).hash(password);
}

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await (await passwordHasher()).verify(phc, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends one hash verification when there is no account to check against, so an unknown
 * username takes as long as a wrong password (no timing oracle for user enumeration).
 */
export async function verifyAgainstNothing(password: string): Promise<false> {
  dummyHash ??= hashPassword(crypto.randomUUID());
  await verifyPassword(await dummyHash, password);
  return false;
}

let commonPasswords: Set<string> | undefined;

function loadCommonPasswords(): Set<string> {
  const text = Deno.readTextFileSync(new URL("./data/common_passwords.txt", import.meta.url));
  return new Set(text.split("\n").filter((line) => line && !line.startsWith("#")));
}

/**
 * Why a new password is refused, or null when it is acceptable (ASVS 2.1.1, 2.1.2, 2.1.7). The one
 * policy of every place a password is set (registration, reset, account creation and change,
 * createsuperuser): each must name the account, so none can skip the check against its name.
 */
export function passwordProblem(password: string, account: { username: string; email: string }): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `Must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `Must be at most ${PASSWORD_MAX_LENGTH} characters`;
  commonPasswords ??= loadCommonPasswords();
  const lowered = password.toLowerCase();
  if (commonPasswords.has(lowered)) return "Is too common; choose a less predictable password";
  if (accountWords(account).some((word) => word.length >= 3 && lowered.includes(word.toLowerCase()))) {
    return "Must not contain your username or email";
  }
  return null;
}

/** Refuses a new password that breaks the policy: 422 pointing at the field it came in. */
export function checkPasswordPolicy(
  password: string,
  pointer: string,
  account: { username: string; email: string },
): void {
  const problem = passwordProblem(password, account);
  if (problem) throw invalid(pointer, problem, "The password does not meet the policy");
}

/** Words a password must not contain: the username and the e-mail's local part. */
function accountWords(account: { username: string; email: string }): string[] {
  return [account.username, account.email.split("@")[0]];
}
