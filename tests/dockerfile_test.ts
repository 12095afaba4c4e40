/**
 * Issue 9, point 25: the Dockerfile, checked as far as this machine can (it has no Docker engine,
 * so the image is never built here): a non-root user, `deno task start`, a health check on
 * /ready that works against a real server, dependencies installed at build time from the
 * lockfile, the Deno version the tests run on, and no local state copied in.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { startServer } from "./_server.ts";
import { freePort } from "./_cluster.ts";

const ROOT = new URL("../", import.meta.url);

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined and comments dropped. */
function parse(text: string): Instruction[] {
  const joined = text.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n").replace(/\\\n/g, " ");
  return joined.split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
  });
}

const dockerfile = parse(Deno.readTextFileSync(new URL("Dockerfile", ROOT)));
const lastStage = dockerfile.slice(dockerfile.findLastIndex((i) => i.keyword === "FROM"));
const healthcheck = JSON.parse(lastStage.find((i) => i.keyword === "HEALTHCHECK")!.args.replace(/^.*?CMD\s+/, ""));

Deno.test("the image runs deno task start as a non-root user, on the Deno the tests run on", () => {
  const version = dockerfile.find((i) => i.keyword === "ARG" && i.args.startsWith("DENO_VERSION="))?.args.split("=")[1];
  assertEquals(version, Deno.version.deno);
  for (const from of dockerfile.filter((i) => i.keyword === "FROM")) {
    assertMatch(from.args, /^denoland\/deno:(debian|distroless)-\$\{DENO_VERSION\}/);
  }
  const user = lastStage.findLast((i) => i.keyword === "USER")?.args;
  assert(user && !/^(0|root)(:|$)/.test(user), `runs as ${user}`);
  const run = [
    ...JSON.parse(lastStage.find((i) => i.keyword === "ENTRYPOINT")!.args),
    ...JSON.parse(lastStage.find((i) => i.keyword === "CMD")!.args),
  ];
  assertEquals(run, ["deno", "task", "start"]);
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))).tasks;
  assert(tasks.start.startsWith("deno run ") && !tasks.start.includes("-A"), "start has its own narrow flags");
  const env = lastStage.filter((i) => i.keyword === "ENV").map((i) => i.args).join(" ");
  for (const setting of ["APP_ENV=production", "HOST=0.0.0.0", "DATA_DIR=/data"]) {
    assert(env.includes(setting), setting);
  }
  const grace = Number(env.match(/SHUTDOWN_GRACE_MS=(\d+)/)?.[1]);
  assert(grace > 0 && grace < 10_000, "the drain ends before docker stop's 10 s");
});

Deno.test("dependencies are installed at build time from the lockfile, and every entry point exists", () => {
  const runs = dockerfile.filter((i) => i.keyword === "RUN").map((i) => i.args);
  const install = dockerfile.findIndex((i) => i.keyword === "RUN" && i.args.startsWith("deno install --frozen"));
  const copyAll = dockerfile.findIndex((i) => i.keyword === "COPY" && i.args === ". .");
  assert(install >= 0 && install < copyAll, "deno install --frozen, before the sources (a cached layer)");
  const entrypoints = runs.join(" ").match(/--entrypoint ([^&]+)/)?.[1].trim().split(/\s+/) ?? [];
  assert(entrypoints.includes("main.ts") && entrypoints.includes("services/argon2_worker.ts"));
  for (const file of entrypoints) Deno.statSync(new URL(file, ROOT));
  const ignored = Deno.readTextFileSync(new URL(".dockerignore", ROOT)).split("\n").map((l) => l.trim());
  for (const path of ["node_modules", "data", ".git", ".env", "tests"]) assert(ignored.includes(path), path);
});

Deno.test("the image carries the embedded database's template, built where its first start looks for it", () => {
  const buildStage = dockerfile.slice(0, dockerfile.findLastIndex((i) => i.keyword === "FROM"));
  const templateDir = (stage: Instruction[]) =>
    stage.filter((i) => i.keyword === "ENV").map((i) => i.args).join(" ").match(/PGLITE_TEMPLATE_DIR=(\S+)/)?.[1];
  const dir = templateDir(buildStage);
  assert(dir, "the build stage names PGLITE_TEMPLATE_DIR");
  assertEquals(templateDir(lastStage), dir);
  assert(buildStage.some((i) => i.keyword === "RUN" && i.args === "deno task pglite:template"));
  assert(
    lastStage.some((i) => i.keyword === "COPY" && i.args.endsWith(`--from=build --chown=1993:1993 ${dir} ${dir}`)),
  );
});

Deno.test("deno install --frozen succeeds: deno.json and deno.lock agree", async () => {
  const out = await new Deno.Command(Deno.execPath(), { args: ["install", "--frozen"], cwd: ROOT }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
});

Deno.test({
  name: "the HEALTHCHECK command passes against a ready server and fails when none answers",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertEquals(healthcheck.slice(0, 2), ["deno", "eval"]);
    assert(healthcheck[2].includes("/ready"));
    const check = async (port: number) =>
      (await new Deno.Command(Deno.execPath(), {
        args: healthcheck.slice(1),
        env: { PORT: String(port), NO_COLOR: "1" },
        stdout: "null",
        stderr: "null",
      }).output()).code;
    const server = await startServer({ DATABASE_URL: "memory://", LOG_LEVEL: "warn", MAIL_TRANSPORT: "log" });
    try {
      assertEquals(await check(server.port), 0);
    } finally {
      await server.stop();
    }
    assertEquals(await check(freePort()), 1);
  },
});
