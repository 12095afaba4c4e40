import { resetUrl } from "../config.ts";
import { findResetToken, spendResetToken, storeResetToken } from "../db/password_reset_tokens.ts";
import { findUserByEmail, ownAccount } from "../db/users.ts";
import { Malformed, RateLimited } from "../errors.ts";
import { sendAccountMail } from "./account_mail.ts";
import { addSeconds } from "./clock.ts";
import type { ServiceContext } from "./context.ts";
import { hashSecret, newOpaqueToken, parseOpaqueToken, secretMatches } from "./opaque_tokens.ts";
import { checkPasswordPolicy, hashPassword } from "./passwords.ts";
import { clientKey, hit } from "./rate_limit.ts";
import { revokeUserSessions } from "./sessions.ts";

export const RESET_TOKEN_SECONDS = 30 * 60;

/**
 * Starts a reset for an active account with this e-mail, if there is one. The answer is the same
 * either way and is given after the same steps: the throttles, then the work queued. Looking the
 * address up, storing a token, recording and mailing all happen after the answer, for known and
 * unknown addresses alike, so its timing says nothing about which addresses have accounts.
 */
export async function requestPasswordReset(ctx: ServiceContext, email: string): Promise<void> {
  const { deps, origin, now } = ctx;
  const { db, config } = deps;
  const window = 3600;
  for (
    const limit of [
      {
        bucket: `forgot:ip:${clientKey(origin.ipAddress)}`,
        max: config.RATE_LIMIT_FORGOT_PER_IP,
        windowSeconds: window,
      },
      { bucket: `forgot:email:${email.toLowerCase()}`, max: config.RATE_LIMIT_FORGOT_PER_EMAIL, windowSeconds: window },
    ]
  ) {
    const state = await hit(db, limit, now);
    if (state.limited) throw new RateLimited(state.retryAfterSeconds);
  }
  deps.background.run("password-reset", () => startReset(ctx, email));
}

/** The queued part of a reset request: a token and a mail for an active account, a record either way. */
async function startReset(ctx: ServiceContext, email: string): Promise<void> {
  const { deps, now } = ctx;
  const user = await findUserByEmail(deps.db, email);
  if (!user || user.accountStatus !== "active") {
    await ctx.uow.record({
      action: "password_reset",
      outcome: "denied",
      targetTable: "users",
      targetId: user?.id ?? null,
      details: { stage: "requested", reason: user ? `account_${user.accountStatus}` : "no_account" },
    });
    return;
  }
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
  const link = new URL(resetUrl(deps.config));
  link.searchParams.set("token", token.token);
  sendAccountMail(deps, "password_reset", user.id, {
    to: user.email,
    subject: "Reset your Patient Portal password",
    text: [
      `Someone asked to reset the password of the Patient Portal account ${user.username}.`,
      "",
      `To choose a new password, open this link within ${RESET_TOKEN_SECONDS / 60} minutes:`,
      link.href,
      "",
      "If you did not ask for this, ignore this message: your password stays as it is.",
    ].join("\n"),
  });
}

function invalidResetToken(): Malformed {
  return new Malformed("invalid-reset-token", "The reset token is invalid, expired or already used");
}

/**
 * Spends a reset token, sets the new password and ends every session of that user. The cheap
 * checks come first (the per-address throttle, the token's shape, the token itself, the password
 * policy against the account's own name and address); only then is the new password hashed.
 */
export async function resetPassword(ctx: ServiceContext, presented: string, newPassword: string) {
  const { now } = ctx;
  const { db, config } = ctx.deps;
  const { parsed, passwordHash } = await ctx.uow.check(async () => {
    const limit = { bucket: `reset:ip:${clientKey(ctx.origin.ipAddress)}`, max: config.RATE_LIMIT_RESET_PER_IP };
    const state = await hit(db, { ...limit, windowSeconds: 3600 }, now);
    if (state.limited) throw new RateLimited(state.retryAfterSeconds);
    const parsed = parseOpaqueToken(presented);
    if (!parsed) throw invalidResetToken();
    const row = await findResetToken(db, parsed.id, { lock: false });
    const usable = row && !row.usedAt && row.expiresAt > now && await secretMatches(parsed.secret, row.secretHash);
    const user = usable ? await ownAccount(db, row.userId) : undefined;
    if (!user) throw invalidResetToken();
    checkPasswordPolicy(newPassword, "/new_password", user);
    return { parsed, passwordHash: await hashPassword(newPassword) };
  }, { action: "password_reset", table: "users" });
  await ctx.uow.write(async (tx) => {
    // Checked again under the row lock: two resets racing with one token spend it once.
    const row = await findResetToken(tx, parsed.id);
    const usable = row && !row.usedAt && row.expiresAt > now && await secretMatches(parsed.secret, row.secretHash);
    if (!usable) throw invalidResetToken();
    await spendResetToken(tx, row, passwordHash, now);
    await revokeUserSessions(tx, row.userId, "password_reset", now);
    return { result: undefined, rowIds: [row.userId], details: { stage: "completed", sessions: "revoked" } };
  }, { action: "password_reset", table: "users" });
}
