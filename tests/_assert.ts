/**
 * The `@std/assert` names this project uses, on `node:assert/strict` (JSR is out of reach here).
 * deno.json maps `@std/assert` to this file; swapping in `jsr:@std/assert` is a one-line change.
 */
import nodeAssert from "node:assert/strict";

export class AssertionError extends Error {}

/** node:assert throws a given Error as is, which keeps our message without its default one. */
function m(msg?: string): Error | undefined {
  return msg === undefined ? undefined : new AssertionError(msg);
}

export function assert(condition: unknown, msg?: string): asserts condition {
  nodeAssert.ok(condition, m(msg));
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, m(msg));
}

export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, m(msg));
}

export function assertStrictEquals<T>(actual: unknown, expected: T, msg?: string): asserts actual is T {
  nodeAssert.strictEqual(actual, expected, m(msg));
}

export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  nodeAssert.ok(actual !== null && actual !== undefined, m(msg ?? `expected a value, got ${actual}`));
}

export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.match(actual, expected, m(msg));
}

export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  nodeAssert.ok(
    actual.includes(expected),
    m(msg ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`),
  );
}

export function assertArrayIncludes<T>(actual: readonly T[], expected: readonly T[], msg?: string): void {
  for (const item of expected) {
    nodeAssert.ok(
      actual.some((a) => isDeepEqual(a, item)),
      m(msg ?? `expected array to include ${JSON.stringify(item)}`),
    );
  }
}

export function assertObjectMatch(
  actual: Record<PropertyKey, unknown>,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void {
  const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, actual[k]]));
  nodeAssert.deepStrictEqual(picked, expected, m(msg));
}

export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual > expected, m(msg ?? `expected ${actual} > ${expected}`));
}

export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual < expected, m(msg ?? `expected ${actual} < ${expected}`));
}

export async function assertRejects(fn: () => Promise<unknown>, msgIncludes?: string): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (msgIncludes) assertStringIncludes(String((e as Error)?.message ?? e), msgIncludes);
    return e as Error;
  }
  throw new AssertionError("expected the promise to reject");
}

export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: new (...args: never[]) => E,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (e) {
    if (ErrorClass && !(e instanceof ErrorClass)) throw new AssertionError(`expected ${ErrorClass.name}, got ${e}`);
    if (msgIncludes) assertStringIncludes(String((e as Error)?.message ?? e), msgIncludes);
    return e as E;
  }
  throw new AssertionError("expected the function to throw");
}

export function fail(msg?: string): never {
  throw new AssertionError(msg ?? "failed");
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    nodeAssert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
