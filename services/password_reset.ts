import { publicUrl } from "../config.ts";
import { insertIntegrationLog } from "../db/integration_logs.ts";
import { findResetToken, spendResetToken, storeResetToken } from "../db/password_reset_tokens.ts";
import { findUserByEmail } from "../db/users.ts";
import { Malformed, RateLimited } from "../errors.ts";
import { addSeconds } from "./clock.ts";
import type { ServiceContext } from "./context.ts";
import { hashSecret, newOpaqueToken, parseOpaqueToken, secretMatches } from "./opaque_tokens.ts";
import { hashPassword } from "./passwords.ts";
import { hit } from "./rate_limit.ts";
import { revokeUserSessions } from "./sessions.ts";

export const RESET_TOKEN_SECONDS = 30 * 60;

/**
 * Starts a reset for an active account with this e-mail, if there is one. The caller answers
 * the same either way; the mail goes out in the background so response time reveals nothing.
 */
export async function requestPasswordReset(ctx: ServiceContext, email: string): Promise<void> {
  const { deps, origin, now } = ctx;
  const { db, config } = deps;
  const window = 3600;
  for (
    const limit of [
      {
        bucket: `forgot:ip:${origin.ipAddress ?? "unknown"}`,
        max: config.RATE_LIMIT_FORGOT_PER_IP,
        windowSeconds: window,
      },
      { bucket: `forgot:email:${email.toLowerCase()}`, max: config.RATE_LIMIT_FORGOT_PER_EMAIL, windowSeconds: window },
    ]
  ) {
    const state = await hit(db, limit, now);
    if (state.limited) throw new RateLimited(state.retryAfterSeconds);
  }
  const user = await findUserByEmail(db, email);
  if (!user || user.accountStatus !== "active") return;
  const token = newOpaqueToken();
  const secretHash = await hashSecret(token.secret);
  await ctx.uow.write(async (tx) => {
    await storeResetToken(tx, {
      id: token.id,
      userId: user.id,
      secretHash,
      now,
      expiresAt: addSeconds(now, RESET_TOKEN_SECONDS),
    });
    return { result: undefined, rowIds: [user.id], details: { stage: "requested" } };
  }, { action: "password_reset", table: "users" });
  const link = `${publicUrl(config)}/reset-password/?token=${encodeURIComponent(token.token)}`;
  deps.background.run("password-reset-mail", async () => {
    let status: "success" | "failed" = "success";
    let detail = "";
    const started = performance.now();
    try {
      await deps.mailer.send({
        to: user.email,
        subject: "Reset your Patient Portal password",
        text: [
          `Someone asked to reset the password of the Patient Portal account ${user.username}.`,
          "",
          `To choose a new password, open this link within ${RESET_TOKEN_SECONDS / 60} minutes:`,
          link,
          "",
          `Or send POST ${publicUrl(config)}/reset-password/ with {"token": "${token.token}", "new_password": "..."}.`,
          "",
          "If you did not ask for this, ignore this message: your password stays as it is.",
        ].join("\n"),
      });
    } catch (e) {
      status = "failed";
      detail = String((e as Error)?.message ?? e).slice(0, 2000);
      throw e;
    } finally {
      await insertIntegrationLog(db, {
        systemName: `mail:${deps.mailer.transport}`,
        dataType: "password_reset",
        dataReference: `user:${user.id}`,
        syncStatus: status,
        detail,
        latencyMs: performance.now() - started,
      }, deps.clock());
    }
  });
}

function invalidResetToken(): Malformed {
  return new Malformed("invalid-reset-token", "The reset token is invalid, expired or already used");
}

/** Spends a reset token, sets the new password and ends every session of that user. */
export async function resetPassword(ctx: ServiceContext, presented: string, newPassword: string) {
  const parsed = parseOpaqueToken(presented);
  if (!parsed) throw invalidResetToken();
  const { now } = ctx;
  const passwordHash = await hashPassword(newPassword);
  await ctx.uow.write(async (tx) => {
    const row = await findResetToken(tx, parsed.id);
    const usable = row && !row.usedAt && row.expiresAt > now && await secretMatches(parsed.secret, row.secretHash);
    if (!usable) throw invalidResetToken();
    await spendResetToken(tx, row, passwordHash, now);
    await revokeUserSessions(tx, row.userId, "password_reset", now);
    return { result: undefined, rowIds: [row.userId], details: { stage: "completed", sessions: "revoked" } };
  }, { action: "password_reset", table: "users" });
}
