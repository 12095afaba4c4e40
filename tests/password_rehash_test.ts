/**
 * Hashes made with older argon2id settings (19 MiB × 2, the default before services/argon2_params.ts)
 * still verify, and are replaced with one at the current settings after a successful sign-in only.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import { hash } from "@node-rs/argon2";
import { eq } from "drizzle-orm";
import { users } from "../db/schema.ts";
import { replacePasswordHash } from "../db/users.ts";
import { needsRehash } from "../services/argon2_params.ts";
import { hashPassword } from "../services/passwords.ts";
import { appTest } from "./_fixtures.ts";

const CURRENT = /^\$argon2id\$v=19\$m=12288,t=3,p=1\$/;
const OLD_SETTINGS = { algorithm: 2 as const, memoryCost: 19456, timeCost: 2, parallelism: 1 };

Deno.test("a hash needs replacing unless it was made with the current settings", async () => {
  assertEquals(needsRehash(await hashPassword("correct horse battery")), false);
  assertEquals(needsRehash(await hash("correct horse battery", OLD_SETTINGS)), true);
  assertEquals(needsRehash("$argon2i$v=19$m=12288,t=3,p=1$c2FsdHNhbHQ$aGFzaA"), true);
});

appTest("an older hash is replaced after a successful sign-in, not after a failed one", async (_t, api) => {
  const alice = await api.makePatient();
  const old = await hash(alice.password, OLD_SETTINGS);
  await api.db.update(users).set({ passwordHash: old }).where(eq(users.id, alice.id));
  const stored = async () => (await api.db.select().from(users).where(eq(users.id, alice.id)))[0].passwordHash;

  const wrong = await api.request("POST", "/token/", { body: { username: alice.username, password: "not it at all" } });
  assertEquals(wrong.status, 401);
  assertEquals(await stored(), old);

  await api.signIn(alice);
  const upgraded = await stored();
  assertMatch(upgraded, CURRENT);
  assertNotEquals(upgraded, old);

  await api.signIn(alice); // the new hash verifies, and is kept
  assertEquals(await stored(), upgraded);
});

appTest("a password changed since the hash was read is never overwritten by the replacement", async (_t, api) => {
  const alice = await api.makePatient();
  const [{ passwordHash: current }] = await api.db.select().from(users).where(eq(users.id, alice.id));
  const stale = await hash(alice.password, OLD_SETTINGS);
  assertEquals(await replacePasswordHash(api.db, alice.id, stale, await hashPassword(alice.password)), false);
  const [{ passwordHash: after }] = await api.db.select().from(users).where(eq(users.id, alice.id));
  assertEquals(after, current);
  assert(await replacePasswordHash(api.db, alice.id, current, await hashPassword(alice.password)));
});
