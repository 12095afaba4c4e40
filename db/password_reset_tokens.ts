import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "./client.ts";
import { passwordResetTokens, users } from "./schema.ts";

export type ResetTokenRow = typeof passwordResetTokens.$inferSelect;

/** Stores a new reset token; only the newest works, so earlier unused ones are withdrawn. */
export async function storeResetToken(
  tx: Database,
  token: { id: string; userId: number; secretHash: Uint8Array; now: Date; expiresAt: Date },
): Promise<void> {
  await tx.update(passwordResetTokens).set({ usedAt: token.now })
    .where(and(eq(passwordResetTokens.userId, token.userId), isNull(passwordResetTokens.usedAt)));
  await tx.insert(passwordResetTokens).values({
    id: token.id,
    userId: token.userId,
    secretHash: token.secretHash,
    createdAt: token.now,
    expiresAt: token.expiresAt,
  });
}

/** A reset token by id, locked for the rest of the transaction unless `lock` is false (a first look). */
export async function findResetToken(
  tx: Database,
  id: string,
  options: { lock?: boolean } = {},
): Promise<ResetTokenRow | undefined> {
  const query = tx.select().from(passwordResetTokens).where(eq(passwordResetTokens.id, id));
  const [row] = options.lock === false ? await query : await query.for("update");
  return row;
}

/** Marks the token used and sets the new password. */
export async function spendResetToken(tx: Database, token: ResetTokenRow, passwordHash: string, now: Date) {
  await tx.update(passwordResetTokens).set({ usedAt: now }).where(eq(passwordResetTokens.id, token.id));
  await tx.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, token.userId));
}
