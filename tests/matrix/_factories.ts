/** Rows the matrix acts on, inserted directly (each mutating cell gets a fresh one). */
import {
  appointments,
  labFiles,
  labResults,
  prescriptions,
  rolePermissions,
  roles,
  userRoles,
} from "../../db/schema.ts";
import type { Target, TargetRow, World } from "./_world.ts";
import { MISSING_ID } from "./_world.ts";

let slot = 0;

/** The patient a target stands for, and the doctor caring for them. */
export function parties(w: World, target: Target) {
  if (target === "own") return { patient: w.actors.owner.id, doctor: w.actors.careDoctor.id };
  if (target === "another") return { patient: w.actors.otherPatient.id, doctor: w.thirdDoctor.id };
  return { patient: MISSING_ID, doctor: w.actors.careDoctor.id };
}

/** A distinct future start, two hours apart, so fixtures never overlap. */
export function futureSlot(): Date {
  slot++;
  return new Date(Date.UTC(2032, 0, 1) + slot * 2 * 3600_000 + Math.floor(Math.random() * 50) * 365 * 86400_000);
}

async function orMissing(target: Target, make: () => Promise<TargetRow>): Promise<TargetRow> {
  return target === "missing" ? { id: MISSING_ID } : await make();
}

export function appointment(w: World, target: Target): Promise<TargetRow> {
  return orMissing(target, async () => {
    const { patient, doctor } = parties(w, target);
    const start = futureSlot();
    const [row] = await w.api.db.insert(appointments).values({
      patientId: patient,
      doctorId: doctor,
      appointmentDate: start,
      durationMinutes: 30,
      endsAt: new Date(start.getTime() + 30 * 60_000),
    }).returning();
    return { id: row.id, patient, owner: patient, doctor };
  });
}

export function prescription(w: World, target: Target): Promise<TargetRow> {
  return orMissing(target, async () => {
    const { patient, doctor } = parties(w, target);
    const [row] = await w.api.db.insert(prescriptions).values({
      patientId: patient,
      doctorId: doctor,
      medication: "Amoxicillin",
      dosage: "500 mg",
      frequency: "3/day",
    }).returning();
    return { id: row.id, patient, owner: patient };
  });
}

export function labResult(w: World, target: Target, status: "final" | "preliminary" = "final"): Promise<TargetRow> {
  return orMissing(target, async () => {
    const { patient, doctor } = parties(w, target);
    const content = new TextEncoder().encode("glucose 5.2 mmol/L\n");
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", content));
    const sha256 = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    const [file] = await w.api.db.insert(labFiles).values({
      name: "result.txt",
      contentType: "text/plain",
      size: content.length,
      sha256,
      content,
    }).returning();
    const [row] = await w.api.db.insert(labResults).values({
      patientId: patient,
      physicianId: doctor,
      testType: "glucose",
      resultValue: "5.2",
      status,
      fileId: file.id,
    }).returning();
    return { id: row.id, patient, owner: patient, doctor, released: status !== "preliminary" };
  });
}

export function customRole(w: World, target: Target): Promise<TargetRow> {
  return orMissing(target, async () => {
    const [row] = await w.api.db.insert(roles).values({ roleName: `matrix-${crypto.randomUUID().slice(0, 8)}` })
      .returning();
    await w.api.db.insert(rolePermissions).values({ roleId: row.id, permission: "messages:read" });
    return { id: row.id };
  });
}

export function assignment(w: World, target: Target): Promise<TargetRow> {
  return orMissing(target, async () => {
    const user = await w.api.makeUser([]);
    const role = await customRole(w, "own");
    const [row] = await w.api.db.insert(userRoles).values({ userId: user.id, roleId: Number(role.id) }).returning();
    return { id: row.id, owner: user.id };
  });
}

/** A read-only row shared by every cell of a target (reads do not change it). */
export async function cached(
  w: World,
  key: string,
  target: Target,
  make: () => Promise<TargetRow>,
): Promise<TargetRow> {
  if (target === "missing") return { id: MISSING_ID };
  const k = `${key}:${target}`;
  if (!w.cache.has(k)) w.cache.set(k, await make());
  return w.cache.get(k)!;
}
