/**
 * A local Safaricom Daraja for tests, over real HTTP: OAuth client credentials (Basic auth →
 * bearer token), STK push (checks the token, the `Password` = base64(shortcode + passkey +
 * timestamp), whole-shilling `Amount`, a 254… `PhoneNumber`), STK query (500.001.1001 while the
 * customer has not answered), and the callback it posts to the push's `CallBackURL`; it can take
 * a push and answer too late (the app's call times out while the phone rings).
 */
export const MPESA = {
  consumerKey: "local-consumer-key-Zk3q9",
  consumerSecret: "local-consumer-secret-Xw81p",
  shortcode: "174379",
  passkey: "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
  callbackToken: "cb_6b9f1e0a4d2c4b8e9f7a3c1d5e2b4a6c",
};

interface Push {
  checkoutId: string;
  amount: number;
  phone: string;
  callbackUrl: string;
  result?: { code: number; desc: string };
}

export interface DarajaServer {
  url: string;
  counts: { tokens: number; pushes: number; queries: number };
  pushes: Map<string, Push>;
  /** The last STK push body received (to check its fields). */
  lastPush?: Record<string, unknown>;
  mode: "up" | "down";
  /** Daraja takes the push (the phone rings) but answers only this much later: past the app's timeout. */
  pushAnswerDelayMs: number;
  /** The customer answers on their phone: Daraja settles the push and posts its callback. */
  settle(checkoutId: string, code?: number, desc?: string): Promise<number>;
  /** Posts a callback Daraja never sent (the push stays as it is at Daraja). */
  forge(checkoutId: string, code: number, url?: string): Promise<number>;
  close(): Promise<void>;
}

export function startDarajaServer(clock: () => Date = () => new Date()): DarajaServer {
  const tokens = new Set<string>();
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const callback = (push: Push, code: number, desc: string) => ({
    Body: {
      stkCallback: {
        MerchantRequestID: `mr-${push.checkoutId.slice(-6)}`,
        CheckoutRequestID: push.checkoutId,
        ResultCode: code,
        ResultDesc: desc,
        ...(code === 0
          ? {
            CallbackMetadata: {
              Item: [
                { Name: "Amount", Value: push.amount },
                { Name: "MpesaReceiptNumber", Value: `NLJ${push.checkoutId.slice(-7).toUpperCase()}` },
                { Name: "TransactionDate", Value: 20331219102115 },
                { Name: "PhoneNumber", Value: Number(push.phone) },
              ],
            },
          }
          : {}),
      },
    },
  });
  const post = async (url: string, body: unknown) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await res.body?.cancel();
    return res.status;
  };
  const state = {
    counts: { tokens: 0, pushes: 0, queries: 0 },
    pushes: new Map<string, Push>(),
    lastPush: undefined as Record<string, unknown> | undefined,
    mode: "up" as "up" | "down",
    pushAnswerDelayMs: 0,
    async settle(checkoutId: string, code = 0, desc = "The service request is processed successfully.") {
      const push = state.pushes.get(checkoutId)!;
      push.result = { code, desc };
      return await post(push.callbackUrl, callback(push, code, desc));
    },
    async forge(checkoutId: string, code: number, url?: string) {
      const push = state.pushes.get(checkoutId)!;
      return await post(
        url ?? push.callbackUrl,
        callback(push, code, "The service request is processed successfully."),
      );
    },
  };
  const password = (timestamp: string) => btoa(`${MPESA.shortcode}${MPESA.passkey}${timestamp}`);

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (state.mode === "down") return json(503, { errorMessage: "Service Unavailable" });
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/oauth/v1/generate") {
      if (req.headers.get("authorization") !== `Basic ${btoa(`${MPESA.consumerKey}:${MPESA.consumerSecret}`)}`) {
        return json(400, { errorCode: "400.008.01", errorMessage: "Invalid Authentication passed" });
      }
      const token = crypto.randomUUID().replaceAll("-", "");
      tokens.add(token);
      state.counts.tokens++;
      return json(200, { access_token: token, expires_in: "3599" });
    }
    const bearer = req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
    if (!tokens.has(bearer)) return json(401, { errorCode: "404.001.03", errorMessage: "Invalid Access Token" });
    const body = await req.json();
    if (body.BusinessShortCode !== MPESA.shortcode || body.Password !== password(String(body.Timestamp))) {
      return json(400, { errorCode: "400.002.02", errorMessage: "Bad Request - Invalid Password" });
    }
    const eat = new Date(clock().getTime() + 3 * 3600_000).toISOString().replace(/\D/g, "").slice(0, 10);
    if (!String(body.Timestamp).startsWith(eat)) {
      return json(400, { errorCode: "400.002.02", errorMessage: "Bad Request - Invalid Timestamp" });
    }
    if (url.pathname === "/mpesa/stkpush/v1/processrequest") {
      state.lastPush = body;
      if (!Number.isInteger(body.Amount) || body.Amount < 1) {
        return json(400, { errorCode: "400.002.02", errorMessage: "Bad Request - Invalid Amount" });
      }
      if (!/^254[17]\d{8}$/.test(String(body.PhoneNumber))) {
        return json(400, { errorCode: "400.002.02", errorMessage: "Bad Request - Invalid PhoneNumber" });
      }
      const checkoutId = `ws_CO_${Date.now()}${Math.floor(Math.random() * 1e6)}`;
      state.pushes.set(checkoutId, {
        checkoutId,
        amount: body.Amount,
        phone: body.PhoneNumber,
        callbackUrl: body.CallBackURL,
      });
      state.counts.pushes++;
      if (state.pushAnswerDelayMs > 0) await new Promise((r) => setTimeout(r, state.pushAnswerDelayMs));
      return json(200, {
        MerchantRequestID: `mr-${checkoutId.slice(-6)}`,
        CheckoutRequestID: checkoutId,
        ResponseCode: "0",
        ResponseDescription: "Success. Request accepted for processing",
        CustomerMessage: "Success. Request accepted for processing",
      });
    }
    if (url.pathname === "/mpesa/stkpushquery/v1/query") {
      state.counts.queries++;
      const push = state.pushes.get(body.CheckoutRequestID);
      if (!push) return json(400, { errorCode: "400.002.02", errorMessage: "Bad Request - Invalid CheckoutRequestID" });
      if (!push.result) {
        return json(500, { errorCode: "500.001.1001", errorMessage: "The transaction is being processed" });
      }
      return json(200, {
        ResponseCode: "0",
        ResponseDescription: "The service request has been accepted successsfully",
        MerchantRequestID: `mr-${push.checkoutId.slice(-6)}`,
        CheckoutRequestID: push.checkoutId,
        ResultCode: String(push.result.code),
        ResultDesc: push.result.desc,
      });
    }
    return json(404, { errorMessage: "Not found" });
  });
  return Object.assign(state, { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() });
}
