/** wrk runs for `deno task bench`, and the table it prints. */

export interface Row {
  label: string;
  connections: number;
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  bytes: number;
  non2xx: number;
  cpuPerRequest: number;
}

export interface WrkOptions {
  connections?: number;
  seconds?: number;
  method?: string;
  body?: string;
  token?: string;
  /** A wrk Lua script's text (its `request` builds each request). */
  lua?: string;
  quiet?: boolean;
}

/** Ends the script with one line when wrk is not installed, before it sets anything up. */
export async function exitUnlessWrk(script: string): Promise<void> {
  try {
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output();
  } catch {
    console.error(`${script} needs wrk on the PATH (Debian: apt-get install wrk)`);
    Deno.exit(1);
  }
}

export async function wrk(
  base: string,
  path: string,
  o: WrkOptions = {},
): Promise<Omit<Row, "label" | "cpuPerRequest">> {
  const connections = o.connections ?? 32;
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  const headers = [`wrk.headers["Content-Type"] = "application/json"`];
  if (o.token) headers.push(`wrk.headers["Authorization"] = "Bearer ${o.token}"`);
  if (o.method) headers.push(`wrk.method = "${o.method}"`);
  if (o.body) headers.push(`wrk.body = ${JSON.stringify(o.body)}`);
  const done = `done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %f %f\\n", summary.requests, summary.bytes,
    summary.errors.status, latency:percentile(50), latency:percentile(99)))
end`;
  // BENCH_DEBUG=1: print the first failed answer of each thread (slows wrk a little).
  const debug = Deno.env.get("BENCH_DEBUG")
    ? `local shown = false
response = function(status, headers, body)
  if status > 299 and not shown then shown = true; io.write("FAILED " .. status .. " " .. body .. "\\n") end
end`
    : "";
  await Deno.writeTextFile(script, [...headers, o.lua ?? "", debug, done].join("\n"));
  try {
    const out = await new Deno.Command("wrk", {
      args: ["-t2", `-c${connections}`, `-d${o.seconds ?? 10}s`, "--timeout", "30s", "-s", script, `${base}${path}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (Deno.env.get("BENCH_DEBUG")) console.error(text.split("\n").filter((l) => l.startsWith("FAILED")).join("\n"));
    const m = text.match(/BENCH (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)/);
    if (!m) throw new Error(`wrk said: ${text}${new TextDecoder().decode(out.stderr)}`);
    const seconds = Number(text.match(/requests in ([\d.]+)(m?s)/)?.[1] ?? o.seconds ?? 10) *
      (text.match(/requests in [\d.]+(ms)/) ? 0.001 : 1);
    const requests = Number(m[1]);
    return {
      connections,
      requests,
      rps: requests / seconds,
      bytes: requests ? Number(m[2]) / requests : 0,
      non2xx: Number(m[3]),
      p50: Number(m[4]) / 1000,
      p99: Number(m[5]) / 1000,
    };
  } finally {
    await Deno.remove(script);
  }
}

/** The original service's figures (BASELINE.md, same harness, measured back to back on 2026-12-02) and targets. */
const ORIGINAL: Record<string, [number, number]> = {
  "POST /token/": [5.6, 25],
  "GET /appointments/?page_size=200": [65.4, 8],
  "GET /patients/?page_size=200": [4.7, 100],
  "POST /appointments/": [92.0, 10],
};

export function table(rows: Row[], info: { driver: string; seconds: number; rssMiB: number }): string {
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (x: number, d = 1) => x.toFixed(d).padStart(9);
  const lines = [
    `driver ${info.driver}; wrk -t2, ${info.seconds}s per scenario; peak RSS of the API ${info.rssMiB.toFixed(0)} MiB`,
    `${pad("scenario", 48)} conns       rps   p50 ms   p99 ms    bytes  CPU ms/req  non-2xx  vs original`,
  ];
  for (const r of rows) {
    const original = ORIGINAL[r.label];
    const ratio = original ? `${(r.rps / original[0]).toFixed(1)}× (target ${original[1]}×)` : "";
    lines.push(
      `${pad(r.label, 48)} ${String(r.connections).padStart(5)} ${num(r.rps)} ${num(r.p50, 2)} ${num(r.p99, 2)} ${
        num(r.bytes, 0)
      } ${num(r.cpuPerRequest, 2)}   ${String(r.non2xx).padStart(6)}  ${ratio}`,
    );
  }
  const rate = (label: string) => rows.find((r) => r.label.startsWith(label))?.rps ?? 0;
  const ratio = (a: number, b: number) => (b ? (100 * a / b).toFixed(0) : "?");
  lines.push(
    `audited one-row read / bare driver: ${
      ratio(rate("GET /patients/{id}/"), rate("bare driver: one-row"))
    } % (target ≥ 40 %)`,
    `200-row appointment list / bare driver: ${
      ratio(rate("GET /appointments/?page_size=200"), rate("bare driver: 200-row"))
    } % (target ≥ 50 %)`,
    `audited create c=64 / c=8: ${
      (rate("POST /appointments/ (audited create, c=64") / rate("POST /appointments/ (audited create, c=8)"))
        .toFixed(2)
    } (target ≥ 1)`,
  );
  return lines.join("\n");
}
