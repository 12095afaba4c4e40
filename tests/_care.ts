import { appointments } from "../db/schema.ts";
import type { Actor, TestApp } from "./_fixtures.ts";

/** Gives the doctor the patient under care: a shared appointment (cancelled ones do not count). */
export async function putUnderCare(api: TestApp, doctor: Actor, patient: Actor, status = "scheduled") {
  const start = new Date(
    Date.now() + 86400_000 * (1 + Math.floor(Math.random() * 300)) + Math.floor(Math.random() * 1e6) * 1000,
  );
  await api.db.insert(appointments).values({
    patientId: patient.id,
    doctorId: doctor.id,
    appointmentDate: start,
    durationMinutes: 30,
    endsAt: new Date(start.getTime() + 30 * 60_000),
    status,
  });
}
