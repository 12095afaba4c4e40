/**
 * Statement latency by parameter size through the Neon driver and the in-process ws proxy, with
 * Deno's WebSocket or the `ws` package's (what db/neon.ts uses), and through postgres.js over TCP.
 * Shows the ~44 ms Nagle/delayed-ACK stall on Deno's WebSocket above ~1 KB.
 *
 *   deno run -A scripts/bench_params.ts [deno|ws|postgres] [postgres://postgres@127.0.0.1:5432/test]
 */
import { neonConfig, Pool } from "@neondatabase/serverless";
import postgres from "postgres";
import WebSocket from "ws";
import { startWsProxy } from "./ws_tcp_proxy.ts";

const mode = Deno.args[0] ?? "ws";
const url = Deno.args[1] ?? "postgres://postgres@127.0.0.1:5432/test";
const target = new URL(url);
const proxy = await startWsProxy({ allowed: [`${target.hostname}:${target.port || 5432}`] });
neonConfig.wsProxy = (host, port) => `127.0.0.1:${proxy.port}/v2?address=${host}:${port}`;
Object.assign(neonConfig, { useSecureWebSocket: false, pipelineConnect: false, forceDisablePgSSL: true });
if (mode === "ws") neonConfig.webSocketConstructor = WebSocket;
const pool = new Pool({ connectionString: url, max: 2 });
pool.on("error", () => {});
const pg = postgres(url, { max: 2 });
const query = (text: string, params: string[]) =>
  mode === "postgres" ? pg.unsafe(text, params) : pool.query(text, params);

for (const size of [50, 500, 1000, 2000, 8000, 32000]) {
  const p = "x".repeat(size);
  await query("select length($1::text)", [p]);
  const started = performance.now();
  const n = 30;
  for (let i = 0; i < n; i++) await query("select length($1::text)", [p]);
  console.log(`${mode}: parameter of ${size} B: ${((performance.now() - started) / n).toFixed(2)} ms/statement`);
}
await pool.end();
await pg.end();
await proxy.close();
