/**
 * A throwaway Postgres cluster for fault and multi-instance tests: `initdb` into a temp dir, its
 * own port, started and stopped with `pg_ctl` as the `postgres` user when the tests run as root.
 * Tests stop it (`-m immediate`), kill its postmaster and start it again; `destroy()` cleans up.
 */
export interface Cluster {
  port: number;
  url(database?: string): string;
  start(): Promise<void>;
  stopImmediate(): Promise<void>;
  killPostmaster(): Promise<void>;
  destroy(): Promise<void>;
}

const asRoot = Deno.uid() === 0;

function binDir(): string {
  const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name).sort((a, b) =>
    Number(b) - Number(a)
  );
  for (const v of versions) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    try {
      Deno.statSync(`${dir}/initdb`);
      return dir;
    } catch {
      // try the next version
    }
  }
  throw new Error("no Postgres server binaries under /usr/lib/postgresql");
}

async function run(cmd: string, args: string[]): Promise<string> {
  const [program, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  const out = await new Deno.Command(program, { args: argv, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${text}`);
  return text;
}

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export async function startCluster(): Promise<Cluster> {
  const bin = binDir();
  const dir = await Deno.makeTempDir({ prefix: "portal-pg-" });
  if (asRoot) await new Deno.Command("chown", { args: ["postgres", dir] }).output();
  const data = `${dir}/data`;
  const port = freePort();
  await run(`${bin}/initdb`, ["-A", "trust", "-U", "postgres", "--no-sync", "-D", data]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const cluster: Cluster = {
    port,
    url: (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await run(`${bin}/pg_ctl`, ["-D", data, "-l", `${dir}/server.log`, "-w", "-t", "30", "-o", options, "start"]);
    },
    async stopImmediate() {
      await run(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]);
    },
    async killPostmaster() {
      const pid = Number((await Deno.readTextFile(`${data}/postmaster.pid`)).split("\n")[0]);
      Deno.kill(pid, "SIGKILL");
      // Its backends notice the postmaster's death and exit; wait until none holds the port.
      for (let i = 0; i < 100 && await accepting(port); i++) await new Promise((r) => setTimeout(r, 50));
    },
    async destroy() {
      await run(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "stop"]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  await cluster.start();
  return cluster;
}

async function accepting(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}
