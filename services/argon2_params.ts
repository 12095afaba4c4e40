/**
 * The argon2id setting every new password hash is made with. The OWASP Password Storage Cheat Sheet
 * lists five settings of equal strength (46 MiB × 1 pass … 7 MiB × 5 passes, p=1); this is its
 * 12 MiB × 3 passes. On the 2-core machines we measure on, one hash took 6.6 ms against 12.3 at
 * 19 MiB × 2, and two at a time ran 207 a second against 114–123 (`deno run -A scripts/bench_auth.ts`):
 * the smaller block stays in the processor's cache. Each hash also holds 12 MiB instead of 19.
 */
export const ARGON2ID = { memoryKiB: 12288, iterations: 3, parallelism: 1, hashLength: 32, saltLength: 16 };

/** How a PHC string made with ARGON2ID begins; the salt and the hash follow. */
const CURRENT = `$argon2id$v=19$m=${ARGON2ID.memoryKiB},t=${ARGON2ID.iterations},p=${ARGON2ID.parallelism}$`;

/**
 * A stored hash made with other settings (an older default, an imported account): it still
 * verifies, and is replaced with a hash at ARGON2ID after the next successful sign-in, so every
 * account's check costs the same as the check made for an unknown username.
 */
export function needsRehash(phc: string): boolean {
  return !phc.startsWith(CURRENT);
}
