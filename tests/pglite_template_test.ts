/**
 * Issue 12, Deliver 5: a new embedded database starts from a copy of an initialised, migrated
 * template instead of running initdb. The template is marked with a table of its own, so a
 * database that has the mark was copied from it and one that lacks it was not. Embedded only
 * (the server suites skip it): each template built here runs initdb once.
 */
import { assert, assertEquals } from "@std/assert";
import { PGlite } from "@electric-sql/pglite";
import { committedMigrationCount, MIGRATIONS_FOLDER, openDatabase, queryRows } from "../db/client.ts";
import { PGLITE_OPTIONS } from "../db/pglite_options.ts";
import type { DatabaseHandle } from "../db/database.ts";
import { ensureTemplate, templatePath } from "../db/pglite_template.ts";
import { sql } from "drizzle-orm";
import { DRIVER } from "./_db.ts";
import { startServer, taskArgs } from "./_server.ts";

const embeddedOnly = { ignore: DRIVER !== "pglite", sanitizeOps: false, sanitizeResources: false };

async function markTemplate(template: string): Promise<void> {
  const client = await PGlite.create(template, PGLITE_OPTIONS);
  await client.exec("create table template_mark (id int)");
  await client.close();
}

async function hasMark(handle: DatabaseHandle): Promise<boolean> {
  const rows = await queryRows<{ found: boolean }>(
    handle.db,
    sql`select to_regclass('public.template_mark') is not null as found`,
  );
  return rows[0].found;
}

async function entries(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test({
  name: DRIVER === "pglite"
    ? "a new embedded database is a copy of the template; existing ones are left alone; off and unusable fall back"
    : "embedded database template: skipped on a server database (embedded only)",
  ...embeddedOnly,
  async fn(t) {
    const work = await Deno.makeTempDir({ prefix: "portal-template-" });
    const root = `${work}/templates`;
    try {
      await t.step("two starts racing for a missing template build one, and leave nothing behind", async () => {
        const [a, b] = await Promise.all([ensureTemplate(root), ensureTemplate(root)]);
        assertEquals(a, b);
        assertEquals(await entries(root), [a.slice(root.length + 1)]);
        await markTemplate(a);
      });

      await t.step(
        "a new data directory gets the template's copy, then its own migrations check and roles",
        async () => {
          const handle = await openDatabase({ dataDir: `${work}/one`, pgliteTemplates: root });
          try {
            assert(await hasMark(handle), "copied from the template");
            await handle.migrate();
            const [{ applied }] = await queryRows<{ applied: number }>(
              handle.db,
              sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
            );
            assertEquals(applied, await committedMigrationCount());
            const [{ roles }] = await queryRows<{ roles: number }>(
              handle.db,
              sql`select count(*)::int as roles from roles`,
            );
            assert(roles >= 3, `${roles} built-in roles`);
            await handle.db.execute(sql`create table own_data (id int)`);
          } finally {
            await handle.close();
          }
        },
      );

      await t.step("an existing database is reopened, never replaced by the template", async () => {
        const handle = await openDatabase({ dataDir: `${work}/one`, pgliteTemplates: root });
        try {
          const [{ kept }] = await queryRows<{ kept: boolean }>(
            handle.db,
            sql`select to_regclass('public.own_data') is not null as kept`,
          );
          assert(kept, "its own table is still there");
        } finally {
          await handle.close();
        }
        assertEquals((await entries(work)).filter((n) => n.includes("incoming")), []);
      });

      await t.step("templates off: initdb, no copy", async () => {
        const handle = await openDatabase({ dataDir: `${work}/two`, pgliteTemplates: false });
        try {
          assert(!(await hasMark(handle)));
        } finally {
          await handle.close();
        }
      });

      await t.step("a root that cannot hold templates is reported and the database still opens", async () => {
        const blocked = `${work}/not-a-directory`;
        await Deno.writeTextFile(blocked, "");
        const warnings: string[] = [];
        const log = { warn: (msg: string) => warnings.push(msg), info() {} };
        const handle = await openDatabase({ dataDir: `${work}/three`, pgliteTemplates: blocked, log });
        try {
          await handle.migrate();
          assert(!(await hasMark(handle)));
          assertEquals(warnings, ["embedded database: template not used"]);
        } finally {
          await handle.close();
        }
      });
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test("the template's name changes with the PGlite version and with any migration's text", async () => {
  const folder = await Deno.makeTempDir({ prefix: "portal-migrations-" });
  try {
    await Deno.mkdir(`${folder}/meta`);
    await Deno.copyFile(`${MIGRATIONS_FOLDER}/meta/_journal.json`, `${folder}/meta/_journal.json`);
    const { entries } = JSON.parse(await Deno.readTextFile(`${folder}/meta/_journal.json`));
    for (const { tag } of entries) await Deno.copyFile(`${MIGRATIONS_FOLDER}/${tag}.sql`, `${folder}/${tag}.sql`);
    const same = await templatePath("/r", folder);
    assertEquals(same, await templatePath("/r"));
    const pkg = new URL("../package.json", import.meta.resolve("@electric-sql/pglite"));
    assert(same.startsWith(`/r/pglite-${JSON.parse(await Deno.readTextFile(pkg)).version}-`), same);
    await Deno.writeTextFile(`${folder}/${entries[0].tag}.sql`, "\n-- edited", { append: true });
    assert((await templatePath("/r", folder)) !== same);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test({
  name: DRIVER === "pglite"
    ? "deno task pglite:template builds the template and deno task start copies it, each under its own flags"
    : "deno task pglite:template and deno task start: skipped on a server database (embedded only)",
  ...embeddedOnly,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "portal-template-start-" });
    const root = `${work}/templates`;
    try {
      const built = await new Deno.Command(Deno.execPath(), {
        args: taskArgs("pglite:template"),
        cwd: new URL("../", import.meta.url),
        env: { PGLITE_TEMPLATE_DIR: root, NO_COLOR: "1" },
      }).output();
      assertEquals(built.code, 0, new TextDecoder().decode(built.stderr));
      const template = new TextDecoder().decode(built.stdout).trim();
      assertEquals(template, await templatePath(root));
      await markTemplate(template);

      const server = await startServer({
        APP_ENV: "development",
        DATA_DIR: `${work}/data`,
        PGLITE_TEMPLATE_DIR: root,
        LOG_LEVEL: "info",
      });
      const res = await fetch(`${server.url}/ready`);
      await res.body?.cancel();
      await server.stop();
      assertEquals(res.status, 200);
      assert(!server.logs.some((l) => l.msg === "embedded database: template not used"), JSON.stringify(server.logs));
      const handle = await openDatabase({ dataDir: `${work}/data`, pgliteTemplates: false });
      try {
        assert(await hasMark(handle), "the start copied the template");
      } finally {
        await handle.close();
      }
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
