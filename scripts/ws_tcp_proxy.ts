/**
 * A WebSocket-to-TCP proxy, so the Neon serverless driver can reach a plain Postgres (local runs
 * and CI). The driver asks for `ws://HOST:PORT/v2?address=pghost:pgport`; each WebSocket becomes
 * one TCP connection to that address, which must be in the allowed list.
 *
 *   deno run --allow-net scripts/ws_tcp_proxy.ts [listenPort=6543] [allowed=127.0.0.1:5432]
 */
export interface WsProxy {
  port: number;
  close(): Promise<void>;
}

export function startWsProxy(options: { port?: number; allowed: string[] }): Promise<WsProxy> {
  const allowed = new Set(options.allowed);
  const sockets = new Set<Deno.TcpConn>();
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: options.port ?? 0,
      onListen: ({ port }) => resolve({ port, close: close }),
    }, (req) => {
      const address = new URL(req.url).searchParams.get("address") ?? "";
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("WebSocket only", { status: 426 });
      }
      if (!allowed.has(address)) return new Response("address not allowed", { status: 403 });
      const [hostname, port] = splitHostPort(address);
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.binaryType = "arraybuffer";
      pipe(socket, hostname, port, sockets);
      return response;
    });
    async function close() {
      for (const conn of sockets) tryClose(conn);
      await server.shutdown();
    }
  });
}

function pipe(socket: WebSocket, hostname: string, port: number, sockets: Set<Deno.TcpConn>) {
  const pending: Uint8Array[] = [];
  let conn: Deno.TcpConn | undefined;
  let closed = false;
  const shut = () => {
    if (closed) return;
    closed = true;
    if (conn) {
      sockets.delete(conn);
      tryClose(conn);
    }
    if (socket.readyState === WebSocket.OPEN) socket.close();
  };
  socket.onmessage = async (event) => {
    const chunk = new Uint8Array(event.data as ArrayBuffer);
    if (!conn) return void pending.push(chunk);
    try {
      await writeAll(conn, chunk);
    } catch {
      shut();
    }
  };
  socket.onclose = shut;
  socket.onerror = shut;
  socket.onopen = async () => {
    try {
      conn = await Deno.connect({ hostname, port });
      conn.setNoDelay(true);
      sockets.add(conn);
      for (const chunk of pending.splice(0)) await writeAll(conn, chunk);
      const buffer = new Uint8Array(64 * 1024);
      while (!closed) {
        const n = await conn.read(buffer);
        if (n === null) break;
        if (socket.readyState !== WebSocket.OPEN) break;
        socket.send(buffer.slice(0, n));
      }
    } catch {
      // the peer went away; fall through and close both sides
    }
    shut();
  };
}

async function writeAll(conn: Deno.TcpConn, chunk: Uint8Array) {
  for (let written = 0; written < chunk.length;) written += await conn.write(chunk.subarray(written));
}

function tryClose(conn: Deno.TcpConn) {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

if (import.meta.main) {
  const [port = "6543", allowed = "127.0.0.1:5432"] = Deno.args;
  const proxy = await startWsProxy({ port: Number(port), allowed: allowed.split(",") });
  console.error(`ws→tcp proxy on 127.0.0.1:${proxy.port}, allowed: ${allowed}`);
}
