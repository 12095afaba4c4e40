/** Checks across configuration settings: what payments need, and what production refuses. */

type Problem = { path: string[]; message: string };

const PROVIDER_NEEDS = {
  sandbox: [],
  stripe: ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"],
  mpesa: ["MPESA_CONSUMER_KEY", "MPESA_CONSUMER_SECRET", "MPESA_SHORTCODE", "MPESA_PASSKEY", "MPESA_CALLBACK_TOKEN"],
} as const;

type ProviderKey = (typeof PROVIDER_NEEDS)[keyof typeof PROVIDER_NEEDS][number];

/** The provider's keys are required, and its call must end before the write's statement timeout. */
export function paymentProblems(
  env:
    & {
      PAYMENT_PROVIDER: keyof typeof PROVIDER_NEEDS;
      PAYMENT_PROVIDER_TIMEOUT_MS: number;
      DB_QUERY_TIMEOUT_MS: number;
    }
    & Partial<Record<ProviderKey, string>>,
): Problem[] {
  const out: Problem[] = [];
  if (env.PAYMENT_PROVIDER_TIMEOUT_MS >= env.DB_QUERY_TIMEOUT_MS) {
    out.push({ path: ["PAYMENT_PROVIDER_TIMEOUT_MS"], message: "must be below DB_QUERY_TIMEOUT_MS" });
  }
  for (const key of PROVIDER_NEEDS[env.PAYMENT_PROVIDER]) {
    if (!env[key]) out.push({ path: [key], message: `is required when PAYMENT_PROVIDER=${env.PAYMENT_PROVIDER}` });
  }
  return out;
}

/** Settings production refuses: links, mail and browser origins that would travel or stay in clear. */
export function insecureInProduction(env: {
  PUBLIC_URL?: string;
  RESET_URL?: string;
  STRIPE_API_URL: string;
  MPESA_API_URL: string;
  PAYMENT_PROVIDER: string;
  MAIL_TRANSPORT: string;
  SMTP_SECURITY: string;
  SMTP_ALLOW_INSECURE: boolean;
  CORS_ORIGINS: string[];
}): Problem[] {
  const out: Problem[] = [];
  if (env.PAYMENT_PROVIDER === "sandbox") {
    out.push({
      path: ["PAYMENT_PROVIDER"],
      message: "must be stripe or mpesa when APP_ENV=production (the sandbox takes no money)",
    });
  }
  const plainUrls: [keyof typeof env, string][] = [
    ["PUBLIC_URL", "reset links carry tokens"],
    ["RESET_URL", "reset links carry tokens"],
    ["STRIPE_API_URL", "requests carry the secret key"],
    ["MPESA_API_URL", "requests carry the consumer secret"],
  ];
  for (const [key, why] of plainUrls) {
    const value = env[key];
    if (typeof value === "string" && !value.startsWith("https://")) {
      out.push({ path: [key], message: `must be https:// when APP_ENV=production (${why})` });
    }
  }
  if (env.MAIL_TRANSPORT === "file") {
    out.push({
      path: ["MAIL_TRANSPORT"],
      message: "must not be file when APP_ENV=production (reset links would sit on disk); use smtp",
    });
  }
  if (env.MAIL_TRANSPORT === "smtp" && env.SMTP_SECURITY === "none" && !env.SMTP_ALLOW_INSECURE) {
    out.push({
      path: ["SMTP_SECURITY"],
      message:
        "none is refused when APP_ENV=production; use tls or starttls, or set SMTP_ALLOW_INSECURE=1 for a local relay",
    });
  }
  const plain = env.CORS_ORIGINS.filter((o) => o.startsWith("http://"));
  if (plain.length > 0) {
    out.push({
      path: ["CORS_ORIGINS"],
      message: `must be https:// origins when APP_ENV=production (${plain.join(", ")})`,
    });
  }
  return out;
}

/** `scheme://host[:port]` exactly as a browser sends it in `Origin` (no path, no wildcard). */
export function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === text && !text.includes("*");
  } catch {
    return false;
  }
}
