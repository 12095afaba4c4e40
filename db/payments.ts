/**
 * Payments, through the caller's scope (`payments:own`: their own payments; every row with
 * `payments:read:any`, `payments:refund` or the `all` policy). Rows are changed only after being
 * read, and locked, through the scope; the database refuses any other change of a money field.
 */
import { and, eq, isNull, type SQL } from "drizzle-orm";
import type { Database } from "./client.ts";
import type { PolicyOf } from "./policies.ts";
import { appointments, doctorProfiles, paymentEvents, payments } from "./schema.ts";
import { type InScope, inScopeRow, restrict, type Scope } from "./scope.ts";

export type PaymentRow = typeof payments.$inferSelect;
export type PaymentChanges = Partial<
  Pick<PaymentRow, "status" | "providerReference" | "providerReceipt" | "refundedAmount" | "failureReason" | "notes">
>;
type PaymentScope = Scope<PolicyOf<"payments">>;

export const PAYMENT_ORDERINGS = {
  created_at: { column: payments.createdAt, value: (r: PaymentRow) => r.createdAt },
  id: { column: payments.id, value: (r: PaymentRow) => r.id },
};
export const PAYMENT_ID = { column: payments.id, value: (r: PaymentRow) => r.id };

export interface PaymentFilters {
  patient?: number;
  appointment?: number;
  status?: string;
}

export function listPayments(
  db: Database,
  scope: PaymentScope,
  query: PaymentFilters & { where?: SQL; orderBy: SQL[]; limit: number },
): Promise<PaymentRow[]> {
  return db.select().from(payments)
    .where(and(
      restrict(scope),
      query.patient === undefined ? undefined : eq(payments.patientId, query.patient),
      query.appointment === undefined ? undefined : eq(payments.appointmentId, query.appointment),
      query.status === undefined ? undefined : eq(payments.status, query.status),
      query.where,
    ))
    .orderBy(...query.orderBy)
    .limit(query.limit);
}

/** One payment if it is in scope; `lock` holds it for the rest of the transaction. */
export async function findPayment(
  db: Database,
  scope: PaymentScope,
  id: number,
  options: { lock?: boolean } = {},
): Promise<InScope<PaymentRow> | undefined> {
  const query = db.select().from(payments).where(and(eq(payments.id, id), restrict(scope)));
  const [row] = options.lock ? await query.for("update") : await query;
  return inScopeRow(row);
}

/** The payment a provider's event names, locked (webhooks run with the system's scope). */
export async function findPaymentByReference(
  db: Database,
  scope: PaymentScope,
  provider: string,
  reference: string,
): Promise<InScope<PaymentRow> | undefined> {
  const [row] = await db.select().from(payments)
    .where(and(eq(payments.provider, provider), eq(payments.providerReference, reference), restrict(scope)))
    .for("update");
  return inScopeRow(row);
}

/** A payment of this provider that never got a reference (its request went unanswered), locked. */
export async function findUnansweredPayment(
  db: Database,
  scope: PaymentScope,
  provider: string,
  id: number,
): Promise<InScope<PaymentRow> | undefined> {
  const [row] = await db.select().from(payments)
    .where(
      and(eq(payments.id, id), eq(payments.provider, provider), isNull(payments.providerReference), restrict(scope)),
    )
    .for("update");
  return inScopeRow(row);
}

export interface PayableAppointment {
  id: number;
  patientId: number;
  status: string;
  fee: number;
  currency: string;
}

/**
 * The appointment a caller may pay, locked so two payments of it are decided one after the
 * other: the caller's own appointment under `payments:own` (the policy's owner is the patient),
 * any with an unrestricted scope. Its fee and currency come from the doctor's profile.
 */
export async function findPayableAppointment(
  db: Database,
  scope: PaymentScope,
  appointmentId: number,
): Promise<PayableAppointment | undefined> {
  const owner = restrict(scope) === undefined ? undefined : eq(appointments.patientId, scope.actor);
  const [row] = await db.select({
    id: appointments.id,
    patientId: appointments.patientId,
    status: appointments.status,
    fee: doctorProfiles.consultationFee,
    currency: doctorProfiles.currency,
  }).from(appointments)
    .leftJoin(doctorProfiles, eq(doctorProfiles.userId, appointments.doctorId))
    .where(and(eq(appointments.id, appointmentId), owner))
    .for("update", { of: appointments });
  return row && { ...row, fee: row.fee ?? 0, currency: row.currency ?? "USD" };
}

/**
 * Every payment of an appointment (what its balance is computed from, and its pending one), whole
 * rows in scope: the appointment was reached through the caller's scope (findPayableAppointment).
 */
export async function paymentsOfAppointment(db: Database, appointmentId: number): Promise<InScope<PaymentRow>[]> {
  const rows = await db.select().from(payments).where(eq(payments.appointmentId, appointmentId));
  return rows.map((row) => inScopeRow(row));
}

export async function insertPayment(
  db: Database,
  values: Pick<PaymentRow, "patientId" | "appointmentId" | "amount" | "currency" | "paymentMethod" | "provider">,
  notes: string,
  now: Date,
): Promise<InScope<PaymentRow>> {
  const [row] = await db.insert(payments).values({ ...values, notes, createdAt: now, updatedAt: now }).returning();
  return inScopeRow(row);
}

export async function updatePayment(
  db: Database,
  current: InScope<PaymentRow>,
  changes: PaymentChanges,
  now: Date,
): Promise<InScope<PaymentRow>> {
  const [row] = await db.update(payments).set({ ...changes, updatedAt: now }).where(eq(payments.id, current.id))
    .returning();
  return inScopeRow(row);
}

/** True when this provider event was applied before (a replay changes nothing). */
export async function eventApplied(db: Database, provider: string, eventId: string): Promise<boolean> {
  const rows = await db.select({ id: paymentEvents.id }).from(paymentEvents)
    .where(and(eq(paymentEvents.provider, provider), eq(paymentEvents.eventId, eventId)));
  return rows.length > 0;
}

/** Remembers an applied event, in the transaction that applied it. */
export async function recordEvent(
  db: Database,
  event: { provider: string; eventId: string; eventType: string; paymentId: number | null },
  now: Date,
): Promise<void> {
  await db.insert(paymentEvents).values({ ...event, receivedAt: now }).onConflictDoNothing();
}
