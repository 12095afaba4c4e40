/**
 * The shape of the code, as tests: which layer may import which, no import cycles, small files,
 * and the audit trail written only by the unit of work. Each rule names what it protects.
 */
import { assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);
const APP_DIRS = ["db", "services", "middleware", "routes"];
const TOP_FILES = ["app.ts", "main.ts", "config.ts", "errors.ts"];

interface Module {
  path: string;
  imports: string[];
  text: string;
}

async function appModules(): Promise<Module[]> {
  const files: string[] = [...TOP_FILES];
  for (const dir of APP_DIRS) await walk(dir, files);
  const modules: Module[] = [];
  for (const path of files) {
    const text = await Deno.readTextFile(new URL(path, ROOT));
    modules.push({ path, text, imports: importsOf(path, text) });
  }
  return modules;
}

async function walk(dir: string, out: string[]) {
  for await (const entry of Deno.readDir(new URL(`${dir}/`, ROOT))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "migrations" && entry.name !== "data") await walk(path, out);
    else if (entry.isFile && /\.tsx?$/.test(entry.name)) out.push(path);
  }
}

/** Every import and re-export specifier, local ones resolved to a path from the root. */
function importsOf(path: string, text: string): string[] {
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]);
  return specifiers.map((s) => (s.startsWith(".") ? new URL(s, new URL(path, ROOT)).href.slice(ROOT.href.length) : s));
}

/** What each layer may import, besides itself. */
const ALLOWED: Record<string, (target: string, from: string) => boolean> = {
  "errors.ts": () => false,
  db: (t) =>
    t === "errors.ts" || t === "config.ts" || t.startsWith("db/") ||
    isPackage(t, [
      "drizzle-orm",
      "@neondatabase/serverless",
      "postgres",
      "postgres-registry",
      "ws",
      "@electric-sql/pglite",
      "node:",
    ]),
  services: (t) =>
    t === "errors.ts" || t === "config.ts" || t.startsWith("db/") || t.startsWith("services/") ||
    isPackage(t, ["drizzle-orm", "jose", "@node-rs/argon2", "hash-wasm", "nodemailer", "stripe", "node:"]),
  middleware: (t) => !t.startsWith("routes/") && t !== "app.ts" && t !== "main.ts",
  routes: (t, from) => {
    if (t === "db/client.ts" || t.startsWith("drizzle-orm")) return false;
    // The table definitions only to derive validation from them, in a resource's schemas.
    if (t === "db/schema.ts") return /\/(schemas|index)\.ts$/.test(from);
    if (t.startsWith("db/")) return false;
    if (!t.startsWith("routes/")) return t !== "app.ts" && t !== "main.ts";
    // A resource folder uses the shared `routes/_*.ts` modules and its own files, not another resource's.
    const folder = (p: string) => p.split("/").slice(0, 2).join("/");
    return /^routes\/_[a-z_]+\.ts$/.test(t) || folder(t) === folder(from) || from.startsWith("routes/_") ||
      from === "routes/docs.ts" || from === "routes/health.ts";
  },
};

function isPackage(target: string, allowed: string[]): boolean {
  return allowed.some((p) => target === p || target.startsWith(`${p}/`) || (p.endsWith(":") && target.startsWith(p)));
}

function layerOf(path: string): string {
  return TOP_FILES.includes(path) ? path : path.split("/")[0];
}

Deno.test("layers import only downwards: routes → middleware → services → db → errors; never services or db → hono", async () => {
  const offenders: string[] = [];
  for (const m of await appModules()) {
    const rule = ALLOWED[layerOf(m.path)];
    if (!rule) continue;
    for (const target of m.imports) {
      const sameLayer = layerOf(target) === layerOf(m.path) && layerOf(m.path) !== "routes";
      if (!sameLayer && !rule(target, m.path)) offenders.push(`${m.path} imports ${target}`);
    }
  }
  assertEquals(offenders, []);
});

Deno.test("the app has no import cycles", async () => {
  const modules = await appModules();
  const graph = new Map(modules.map((m) => [m.path, m.imports.filter((i) => modules.some((n) => n.path === i))]));
  const cycles: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (node: string, trail: string[]) => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "visiting") {
      cycles.push([...trail.slice(trail.indexOf(node)), node].join(" → "));
      return;
    }
    state.set(node, "visiting");
    for (const next of graph.get(node) ?? []) visit(next, [...trail, node]);
    state.set(node, "done");
  };
  for (const node of graph.keys()) visit(node, []);
  assertEquals(cycles, []);
});

Deno.test("no file of the app is over 250 lines (the schema and migrations aside)", async () => {
  const long = (await appModules())
    .filter((m) => !m.path.startsWith("db/schema"))
    .map((m) => ({ path: m.path, lines: m.text.split("\n").length }))
    .filter((f) => f.lines > 250)
    .map((f) => `${f.path}: ${f.lines}`);
  assertEquals(long, []);
});

Deno.test("the audit trail is written only by the unit of work, and only repositories mark rows in scope", async () => {
  const offenders: string[] = [];
  for (const m of await appModules()) {
    if (/\binsertAuditRecord\(/.test(m.text) && !["services/unit_of_work.ts", "db/audit_logs.ts"].includes(m.path)) {
      offenders.push(`${m.path} writes audit records`);
    }
    if (/\binScopeRow\(/.test(m.text) && !m.path.startsWith("db/")) offenders.push(`${m.path} marks rows in scope`);
    if (/\.onError\(/.test(m.text) && m.path !== "app.ts") offenders.push(`${m.path} has its own onError`);
  }
  assertEquals(offenders, []);
});

Deno.test("route handlers build no queries and reach no database client", async () => {
  const offenders = (await appModules())
    .filter((m) => m.path.startsWith("routes/"))
    .filter((m) => /\b(db|tx)\.(select|insert|update|delete|execute|transaction)\(/.test(m.text))
    .map((m) => m.path);
  assertEquals(offenders, []);
});
