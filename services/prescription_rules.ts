/**
 * What a PATCH of a prescription may do, by who sends it: the patient only requests a refill; the
 * prescribing doctor decides on a pending refill or edits the prescription; nobody else changes it.
 * Pure, so it is tested table by table.
 */
import { Conflict, Forbidden, Invalid } from "../errors.ts";
import type { Permission } from "./permissions.ts";

export type PrescriptionChange = "created" | "updated" | "refill_requested" | "refill_approved" | "refill_denied";

export interface PrescriptionPatch {
  refill_requested?: true;
  approve_refill?: true;
  deny_refill?: true;
  denial_reason?: string;
  dosage?: string;
  frequency?: string;
  instructions?: string;
  status?: "active" | "completed" | "cancelled";
}

export interface PrescriptionState {
  patientId: number;
  doctorId: number;
  status: string;
  refillRequested: boolean;
}

export interface PrescriptionPlan {
  changes: {
    refillRequested?: boolean;
    requestDate?: Date;
    approvedDate?: Date;
    denialReason?: string | null;
    dosage?: string;
    frequency?: string;
    instructions?: string;
    status?: string;
  };
  change: PrescriptionChange;
}

export function planPrescriptionChange(
  row: PrescriptionState,
  caller: { userId: number; permissions: ReadonlySet<Permission> },
  body: PrescriptionPatch,
  at: Date,
): PrescriptionPlan {
  const fields = Object.keys(body) as (keyof PrescriptionPatch)[];
  if (fields.length === 0) throw new Invalid([{ pointer: "", detail: "Nothing to change" }]);
  const refuse = (allowed: (keyof PrescriptionPatch)[], detail: string) => {
    const extra = fields.filter((f) => !allowed.includes(f));
    if (extra.length) throw new Invalid(extra.map((f) => ({ pointer: `/${f}`, detail })));
  };
  if (row.patientId === caller.userId && caller.permissions.has("prescriptions:refill")) {
    refuse(["refill_requested"], "A patient may only request a refill");
    if (row.status !== "active") throw new Conflict("conflict", "Only an active prescription can be refilled");
    if (row.refillRequested) throw new Conflict("conflict", "A refill request is already pending");
    return { changes: { refillRequested: true, requestDate: at }, change: "refill_requested" };
  }
  if (row.doctorId !== caller.userId || !caller.permissions.has("prescriptions:write")) {
    throw new Forbidden("Only the patient or the prescribing doctor may change a prescription");
  }
  if (body.approve_refill) {
    refuse(["approve_refill"], "Approve a refill on its own");
    if (!row.refillRequested) throw new Conflict("conflict", "No refill request is pending");
    return { changes: { refillRequested: false, approvedDate: at, denialReason: null }, change: "refill_approved" };
  }
  if (body.deny_refill) {
    refuse(["deny_refill", "denial_reason"], "Deny a refill on its own");
    if (!body.denial_reason) {
      throw new Invalid([{ pointer: "/denial_reason", detail: "Required when denying a refill" }]);
    }
    if (!row.refillRequested) throw new Conflict("conflict", "No refill request is pending");
    return { changes: { refillRequested: false, denialReason: body.denial_reason }, change: "refill_denied" };
  }
  refuse(["dosage", "frequency", "instructions", "status"], "Not a field the prescribing doctor edits");
  const { dosage, frequency, instructions, status } = body;
  const changes = Object.fromEntries(
    Object.entries({ dosage, frequency, instructions, status }).filter(([, v]) => v !== undefined),
  );
  return { changes, change: "updated" };
}
