/**
 * The embedded database's first start from a template. initdb in WASM takes ~4 s here; copying an
 * initialised, migrated data directory and opening it takes well under one. There is one template per
 * PGlite version and migration set, built once (by the first start that finds none, or ahead of time by
 * `deno task pglite:template`, as the Docker image does) under a template root, then copied into each
 * new data directory; pending migrations run on start as always. It holds no rows: the built-in roles
 * are seeded by each database's own start.
 */
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { PGLITE_OPTIONS } from "./pglite_options.ts";
import { MIGRATIONS_FOLDER } from "./database.ts";

/**
 * Where templates live for a PGLITE_TEMPLATE_DIR setting: `off`, nowhere; a path, there; unset, the
 * user's cache directory, if there is one.
 */
export function templateRoot(setting?: string): string | undefined {
  if (setting === "off") return undefined;
  if (setting) return setting;
  const home = Deno.env.get("HOME");
  const cache = Deno.env.get("XDG_CACHE_HOME") || (home ? `${home}/.cache` : "");
  return cache ? `${cache}/patient-portal/pglite-templates` : undefined;
}

/** This PGlite version's and these migrations' template: `<root>/pglite-<version>-<digest>`. */
export async function templatePath(root: string, migrations = MIGRATIONS_FOLDER): Promise<string> {
  const pkg = new URL("../package.json", import.meta.resolve("@electric-sql/pglite"));
  const { version } = JSON.parse(await Deno.readTextFile(pkg));
  const journal = await Deno.readTextFile(`${migrations}/meta/_journal.json`);
  const parts = [version, journal];
  for (const { tag } of JSON.parse(journal).entries) parts.push(await Deno.readTextFile(`${migrations}/${tag}.sql`));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\0")));
  const hex = Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${root}/pglite-${version}-${hex}`;
}

/** Builds the template under `root` unless it is there; returns its path. Safe to race: the first rename wins. */
export async function ensureTemplate(root: string): Promise<string> {
  const template = await templatePath(root);
  if (await isDataDir(template)) return template;
  await Deno.mkdir(root, { recursive: true });
  const building = `${template}.building-${crypto.randomUUID()}`;
  try {
    const client = await PGlite.create(building, PGLITE_OPTIONS);
    try {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client.close();
    }
    await Deno.rename(building, template).catch(async (e) => {
      if (!(await isDataDir(template))) throw e; // else another process built it first
    });
  } finally {
    await Deno.remove(building, { recursive: true }).catch(() => {});
  }
  return template;
}

/**
 * Fills `dataDir` from the template when it does not exist yet or is empty; true if it did. A copy
 * goes to a sibling first and is renamed into place, so a failure never leaves half a database.
 */
export async function startFromTemplate(dataDir: string, root: string): Promise<boolean> {
  const entries = await Array.fromAsync(Deno.readDir(dataDir)).catch(() => []);
  if (entries.length > 0) return false;
  const template = await ensureTemplate(root);
  const incoming = `${dataDir}.incoming-${crypto.randomUUID()}`;
  try {
    await copyTree(template, incoming);
    await Deno.remove(dataDir).catch(() => {}); // the empty directory, if any
    await Deno.rename(incoming, dataDir);
  } finally {
    await Deno.remove(incoming, { recursive: true }).catch(() => {});
  }
  return true;
}

async function isDataDir(path: string): Promise<boolean> {
  return await Deno.stat(`${path}/PG_VERSION`).then(() => true, () => false);
}

/** Copies a directory tree: directories first, then the files, a few at a time (a data directory has ~1,000). */
async function copyTree(from: string, to: string): Promise<void> {
  const files: [string, string][] = [];
  const walk = async (src: string, dst: string) => {
    await Deno.mkdir(dst, { mode: 0o700 });
    for await (const entry of Deno.readDir(src)) {
      const pair: [string, string] = [`${src}/${entry.name}`, `${dst}/${entry.name}`];
      if (entry.isDirectory) await walk(...pair);
      else files.push(pair);
    }
  };
  await walk(from, to);
  let next = 0;
  const copier = async () => {
    while (next < files.length) await Deno.copyFile(...files[next++]);
  };
  await Promise.all(Array.from({ length: 16 }, copier));
}
