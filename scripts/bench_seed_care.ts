import { appointments } from "../db/schema.ts";
import type { Database } from "../db/client.ts";

/** A doctor with the patient under care: one future appointment between them. */
export async function putUnderCareForBench(db: Database, doctorId: number, patientId: number): Promise<void> {
  const start = new Date(Date.UTC(2040, 0, 1) + Math.floor(Math.random() * 1e6) * 3600_000);
  await db.insert(appointments).values({
    patientId,
    doctorId,
    appointmentDate: start,
    durationMinutes: 30,
    endsAt: new Date(start.getTime() + 30 * 60_000),
  });
}
