/**
 * Mail about an account, sent in the background (a response never waits for it, so its time says
 * nothing) and logged as an integration. Never a health detail in it: only what the account
 * holder needs to recognise, or to contest, what happened.
 */
import { insertIntegrationLog } from "../db/integration_logs.ts";
import type { AppDeps } from "./deps.ts";
import type { MailMessage } from "./mail.ts";

/** Sends `message` in the background and records the exchange (`dataType`, `user:<id>`). */
export function sendAccountMail(deps: AppDeps, dataType: string, userId: number, message: MailMessage): void {
  deps.background.run(`${dataType}-mail`, async () => {
    let status: "success" | "failed" = "success";
    let detail = "";
    const started = performance.now();
    try {
      await deps.mailer.send(message);
    } catch (e) {
      status = "failed";
      detail = String((e as Error)?.message ?? e).slice(0, 2000);
      throw e;
    } finally {
      await insertIntegrationLog(deps.db, {
        systemName: `mail:${deps.mailer.transport}`,
        dataType,
        dataReference: `user:${userId}`,
        syncStatus: status,
        detail,
        latencyMs: performance.now() - started,
      }, deps.clock());
    }
  });
}

/** `n***@example.org`: enough for the holder to recognise the address, not to harvest it. */
export function maskedAddress(email: string): string {
  const at = email.lastIndexOf("@");
  return `${email.slice(0, Math.min(1, at))}***${email.slice(at)}`;
}

/** Tells the old address that the account's e-mail changed (ASVS 2.5.5-style notification). */
export function notifyEmailChanged(
  deps: AppDeps,
  account: { id: number; username: string; oldEmail: string; newEmail: string },
  byAdministrator: boolean,
  at: Date,
): void {
  sendAccountMail(deps, "email_changed", account.id, {
    to: account.oldEmail,
    subject: "The e-mail address of your Patient Portal account was changed",
    text: [
      `The e-mail address of the Patient Portal account ${account.username} was changed on ${at.toISOString()}` +
      (byAdministrator ? " by an administrator." : "."),
      `Messages now go to ${maskedAddress(account.newEmail)}; this address will receive none.`,
      "",
      "If you did not make or ask for this change, contact the practice at once: someone else may have access to",
      "your account.",
    ].join("\n"),
  });
}
