/**
 * Inbound provider webhooks. The signature (or, for M-Pesa, the path's secret) is checked before
 * anything else; an event that does not verify changes nothing and is only logged. A verified
 * event is applied once: its id is remembered with the change, so a replay changes nothing, and
 * the status rules make a repeat of the same outcome a no-op. Where the event alone is not the
 * provider's word (M-Pesa callbacks are unsigned), the provider is asked first.
 */
import { insertIntegrationLog } from "../db/integration_logs.ts";
import * as repo from "../db/payments.ts";
import { bindScope } from "../db/scope.ts";
import { type DomainError, NotFound } from "../errors.ts";
import type { ServiceContext } from "./context.ts";
import { planOutcome } from "./payment_rules.ts";
import type { InboundWebhook, ProviderEvent, ProviderName } from "./payment_providers/provider.ts";
import { paymentEvent } from "./payments.ts";

export interface WebhookAnswer {
  body: Record<string, unknown>;
  /** What became of the event, for the integration log and tests. */
  result: "applied" | "late" | "no-change" | "replayed" | "ignored" | "unknown-payment" | "pending" | "mismatch";
}

export async function receiveWebhook(
  ctx: ServiceContext,
  providerName: ProviderName,
  webhook: Omit<InboundWebhook, "at">,
): Promise<WebhookAnswer> {
  const provider = ctx.deps.paymentProvider;
  if (provider.name !== providerName) throw new NotFound();
  let event: ProviderEvent;
  try {
    event = await provider.readEvent({ ...webhook, at: ctx.now });
  } catch (e) {
    await refusedLog(ctx, providerName, e as DomainError);
    throw e;
  }
  // The provider reaches the payment its event names; there is no caller to scope by.
  const system = bindScope("all", 0, true);
  const result = await ctx.uow.write(async (tx, effects) => {
    const log = (result: WebhookAnswer["result"], reference: string, detail: string) =>
      effects.log({
        systemName: providerName,
        dataType: `webhook:${event.name}`,
        dataReference: reference,
        syncStatus: result === "unknown-payment" || result === "mismatch" || result === "late" ? "failed" : "success",
        detail: `${event.id}: ${detail}`,
      });
    if (!event.outcome) {
      await log("ignored", event.reference ?? "", "not an event that moves a payment");
      return { result: "ignored" as const };
    }
    // A payment whose request went unanswered has no reference yet: its callback URL names it.
    const payment = await repo.findPaymentByReference(tx, system, providerName, event.reference) ??
      (event.paymentId === undefined
        ? undefined
        : await repo.findUnansweredPayment(tx, system, providerName, event.paymentId));
    const unanswered = payment !== undefined && payment.providerReference === null;
    if (!payment) {
      await log("unknown-payment", `ref:${event.reference}`, "no payment has this provider reference");
      return { result: "unknown-payment" as const };
    }
    const touched = { rowIds: [payment.id], patientIds: [payment.patientId] };
    if (await repo.eventApplied(tx, providerName, event.id)) {
      await log("replayed", `payment:${payment.id}`, "already applied; nothing changed");
      return { result: "replayed" as const, ...touched };
    }
    const outcome = await provider.confirm({ ...event, outcome: event.outcome }, effects.log);
    if (outcome.type === "pending") {
      await log("pending", `payment:${payment.id}`, "the provider has not settled it yet");
      return { result: "pending" as const, ...touched };
    }
    // Given up for want of an answer, yet the provider took the money: it completes all the same.
    const late = unanswered && payment.status === "failed";
    const plan = planOutcome(late ? { ...payment, status: "pending" } : payment, outcome);
    const applied = { provider: providerName, eventId: event.id, eventType: event.name, paymentId: payment.id };
    await repo.recordEvent(tx, applied, ctx.now);
    if (plan && "mismatch" in plan) {
      await log("mismatch", `payment:${payment.id}`, `not completed: ${plan.mismatch}`);
      return { result: "mismatch" as const, ...touched };
    }
    if (!plan) {
      await log("no-change", `payment:${payment.id}`, `${outcome.type}; the payment is ${payment.status} already`);
      return { result: "no-change" as const, ...touched };
    }
    const changes = unanswered ? { ...plan.changes, providerReference: event.reference } : plan.changes;
    const updated = await repo.updatePayment(tx, payment, changes, ctx.now);
    await effects.emit({ topic: plan.topic, payload: paymentEvent(updated) });
    if (late && updated.status === "completed") {
      await log(
        "late",
        `payment:${payment.id}`,
        "completed after it was given up unanswered: check for a double payment",
      );
      return { result: "late" as const, ...touched, details: { event: event.id, status: updated.status } };
    }
    await log("applied", `payment:${payment.id}`, `${payment.status} → ${updated.status}`);
    return { result: "applied" as const, ...touched, details: { event: event.id, status: updated.status } };
  });
  return { body: provider.acknowledgement, result };
}

/** A webhook that did not verify: logged (no change to commit with), never applied. */
async function refusedLog(ctx: ServiceContext, providerName: string, error: DomainError) {
  await insertIntegrationLog(ctx.deps.db, {
    systemName: providerName,
    dataType: "webhook",
    syncStatus: "failed",
    detail: `refused: ${error?.slug ?? "error"}`,
  }, ctx.now).catch(() => {});
}
