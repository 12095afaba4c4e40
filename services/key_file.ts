/**
 * A development key kept in the data directory, created once. Several isolates may start at the
 * same moment (`deno serve --parallel`): the file appears whole or not at all (written aside, then
 * hard-linked into place), and whoever comes second uses the key the first one wrote.
 */
export async function createKeyFileOnce(path: string, content: string): Promise<string> {
  const aside = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(aside, content, { mode: 0o600, createNew: true });
  try {
    await Deno.link(aside, path);
    return content;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    return await Deno.readTextFile(path);
  } finally {
    await Deno.remove(aside).catch(() => {});
  }
}
