import { assertEquals } from "@std/assert";
import { createKeyFileOnce } from "../services/key_file.ts";

Deno.test("a development key file is created once: isolates starting together all get the first one's key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/audit_hmac_key`;
    const kept = await Promise.all(Array.from({ length: 16 }, (_, i) => createKeyFileOnce(path, `key ${i}\n`)));
    const stored = await Deno.readTextFile(path);
    assertEquals(new Set(kept), new Set([stored]), "every caller uses the key on disk");
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["audit_hmac_key"], "nothing left aside");
    assertEquals(await createKeyFileOnce(path, "later\n"), stored, "a later start reads it too");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
