/**
 * The API as its own process, started exactly as `deno task <task>` starts it (the task's own
 * permission flags, not the tests' `-A`), on a port of its own, with its log lines collected.
 */
import { freePort } from "./_cluster.ts";

export interface ServerProcess {
  port: number;
  url: string;
  /** Every JSON log line the process wrote so far, parsed. */
  logs: Record<string, unknown>[];
  /** Everything it wrote on stderr that was not a JSON line. */
  otherOutput: string[];
  /** Resolves when the process has exited. */
  exited: Promise<Deno.CommandStatus>;
  alive(): boolean;
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

const ROOT = new URL("../", import.meta.url);

/** The `deno run …` arguments of a task in deno.json (`start`, `dev`, …), without the leading `deno`. */
export function taskArgs(task: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  const words = (config.tasks[task] as string).split(/\s+/);
  if (words[0] !== "deno") throw new Error(`task ${task} does not start with deno`);
  return words.slice(1).filter((w) => !w.startsWith("--watch"));
}

export async function startServer(
  env: Record<string, string>,
  options: { task?: string; waitForHealth?: boolean; withoutFlags?: string[] } = {},
): Promise<ServerProcess> {
  const port = Number(env.PORT ?? freePort());
  const args = taskArgs(options.task ?? "start").filter((a) => !options.withoutFlags?.includes(a));
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0", DENO_NO_UPDATE_CHECK: "1", ...env, PORT: String(port) },
    clearEnv: false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  const otherOutput: string[] = [];
  let running = true;
  const exited = child.status.then((s) => {
    running = false;
    return s;
  });
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          logs.push(JSON.parse(line));
        } catch {
          if (line.trim()) otherOutput.push(line);
        }
      }
    }
  };
  const collecting = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const server: ServerProcess = {
    port,
    url: `http://${env.HOST && env.HOST !== "0.0.0.0" ? env.HOST : "127.0.0.1"}:${port}`,
    logs,
    otherOutput,
    exited,
    alive: () => running,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (running) {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
      const status = await exited;
      await collecting;
      return status;
    },
  };
  if (options.waitForHealth ?? true) {
    const deadline = Date.now() + 30_000;
    while (true) {
      if (!running) throw new Error(`the server exited while starting:\n${otherOutput.join("\n")}`);
      try {
        const res = await fetch(`${server.url}/health`);
        await res.body?.cancel();
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await server.stop("SIGKILL");
        throw new Error(`the server did not answer /health within 30 s:\n${otherOutput.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return server;
}

/** True when the process exits by itself within `ms`. */
export async function exitWithin(server: ServerProcess, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  const result = await Promise.race([server.exited.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}
