/** The provider `PAYMENT_PROVIDER` names, built from the configuration. */
import { type Config, publicUrl } from "../../config.ts";
import type { Clock } from "../clock.ts";
import type { CallBudget } from "./calls.ts";
import { mpesaProvider } from "./mpesa.ts";
import type { PaymentProvider } from "./provider.ts";
import { sandboxProvider } from "./sandbox.ts";
import { stripeProvider } from "./stripe.ts";

export type { PaymentProvider };

export function createPaymentProvider(config: Config, clock: Clock): PaymentProvider {
  const budget: CallBudget = {
    timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS,
    retries: config.PAYMENT_PROVIDER_RETRIES,
    retryAfterSeconds: config.PAYMENT_RETRY_AFTER_SECONDS,
  };
  switch (config.PAYMENT_PROVIDER) {
    case "sandbox":
      return sandboxProvider({ clock, budget, toleranceSeconds: config.STRIPE_WEBHOOK_TOLERANCE_SECONDS });
    case "stripe":
      return stripeProvider({
        secretKey: config.STRIPE_SECRET_KEY!,
        webhookSecret: config.STRIPE_WEBHOOK_SECRET!,
        apiUrl: config.STRIPE_API_URL,
        toleranceSeconds: config.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        budget,
      });
    case "mpesa":
      return mpesaProvider({
        apiUrl: config.MPESA_API_URL,
        consumerKey: config.MPESA_CONSUMER_KEY!,
        consumerSecret: config.MPESA_CONSUMER_SECRET!,
        shortcode: config.MPESA_SHORTCODE!,
        passkey: config.MPESA_PASSKEY!,
        callbackToken: config.MPESA_CALLBACK_TOKEN!,
        callbackUrl: `${publicUrl(config)}/payments/webhooks/mpesa/${config.MPESA_CALLBACK_TOKEN}/`,
        budget,
        clock,
      });
  }
}
