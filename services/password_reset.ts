import { and, eq, isNull } from "drizzle-orm";
import type { AppDeps } from "../app_env.ts";
import { publicUrl } from "../config.ts";
import { integrationLogs, passwordResetTokens, users } from "../db/schema.ts";
import { ProblemError } from "../middleware/problem.ts";
import { recordAudit, type RequestOrigin } from "./audit.ts";
import { addSeconds } from "./clock.ts";
import { hashSecret, newOpaqueToken, parseOpaqueToken, secretMatches } from "./opaque_tokens.ts";
import { hashPassword } from "./passwords.ts";
import { hit } from "./rate_limit.ts";
import { revokeUserSessions } from "./sessions.ts";
import { rateLimited } from "./sign_in.ts";
import { findUserByEmail } from "./users.ts";

export const RESET_TOKEN_SECONDS = 30 * 60;

/**
 * Starts a reset for an active account with this e-mail, if there is one. The caller answers
 * the same either way; the mail goes out in the background so response time reveals nothing.
 */
export async function requestPasswordReset(deps: AppDeps, origin: RequestOrigin, email: string): Promise<void> {
  const { db, config } = deps;
  const now = deps.clock();
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
    if (state.limited) throw rateLimited(state.retryAfterSeconds);
  }
  const user = await findUserByEmail(db, email);
  if (!user || user.accountStatus !== "active") return;
  const token = newOpaqueToken();
  await db.transaction(async (tx) => {
    // Only the newest link works: earlier unused ones are withdrawn.
    await tx.update(passwordResetTokens).set({ usedAt: now })
      .where(and(eq(passwordResetTokens.userId, user.id), isNull(passwordResetTokens.usedAt)));
    await tx.insert(passwordResetTokens).values({
      id: token.id,
      userId: user.id,
      secretHash: await hashSecret(token.secret),
      createdAt: now,
      expiresAt: addSeconds(now, RESET_TOKEN_SECONDS),
    });
    await recordAudit(tx, origin, {
      userId: user.id,
      action: "password_reset",
      outcome: "success",
      targetTable: "users",
      targetId: user.id,
      details: { stage: "requested" },
    });
  });
  const link = `${publicUrl(config)}/reset-password/?token=${encodeURIComponent(token.token)}`;
  deps.background.run("password-reset-mail", async () => {
    let status: "success" | "failed" = "success";
    let detail = "";
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
      await db.insert(integrationLogs).values({
        systemName: `mail:${deps.mailer.transport}`,
        dataType: "password_reset",
        dataReference: `user:${user.id}`,
        syncStatus: status,
        detail,
      });
    }
  });
}

function invalidResetToken(): ProblemError {
  return new ProblemError(400, "invalid-reset-token", "The reset token is invalid, expired or already used");
}

/** Spends a reset token, sets the new password and ends every session of that user. */
export async function resetPassword(deps: AppDeps, origin: RequestOrigin, presented: string, newPassword: string) {
  const parsed = parseOpaqueToken(presented);
  if (!parsed) throw invalidResetToken();
  const now = deps.clock();
  const passwordHash = await hashPassword(newPassword);
  await deps.db.transaction(async (tx) => {
    const [row] = await tx.select().from(passwordResetTokens)
      .where(eq(passwordResetTokens.id, parsed.id)).for("update");
    const usable = row && !row.usedAt && row.expiresAt > now && await secretMatches(parsed.secret, row.secretHash);
    if (!usable) throw invalidResetToken();
    await tx.update(passwordResetTokens).set({ usedAt: now }).where(eq(passwordResetTokens.id, row.id));
    await tx.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, row.userId));
    await revokeUserSessions(tx, row.userId, "password_reset", now);
    await recordAudit(tx, origin, {
      userId: row.userId,
      action: "password_reset",
      outcome: "success",
      targetTable: "users",
      targetId: row.userId,
      details: { stage: "completed", sessions: "revoked" },
    });
  });
}
