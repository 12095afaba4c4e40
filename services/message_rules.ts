/**
 * Who may write to whom, by their roles and care relations: pure, so it is tested table by table.
 * Patients write to the doctors who have them under care and to administrators; doctors to their
 * patients under care, to other doctors and to administrators; administrators to anyone; anyone
 * else only to administrators. Nobody writes to an inactive account.
 */
import type { Relation } from "../db/messages.ts";

export function mayMessage(senderRoles: readonly string[], relation: Relation): boolean {
  if (!relation.receiverExists || !relation.receiverActive) return false;
  const receiver = new Set(relation.receiverRoles);
  if (senderRoles.includes("admin") || receiver.has("admin")) return true;
  if (senderRoles.includes("doctor")) {
    return receiver.has("doctor") || (receiver.has("patient") && relation.senderCaresForReceiver);
  }
  if (senderRoles.includes("patient")) return receiver.has("doctor") && relation.receiverCaresForSender;
  return false;
}
