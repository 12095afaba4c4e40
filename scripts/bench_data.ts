/**
 * The benchmark's data on a new database: a patient with 200 appointments, a doctor, an admin and
 * 199 more patients (200 patient profiles in all), one password for all. Migrates first.
 */
import { openDatabase } from "../db/client.ts";
import { appointments, doctorProfiles } from "../db/schema.ts";
import { createAccount } from "../db/users.ts";
import { hashPassword } from "../services/passwords.ts";

/** `url` names a Postgres database; without one, the embedded database under `dataDir` (closed again after). */
export async function seedBench(target: { url: string } | { dataDir: string }) {
  const handle = await openDatabase("url" in target ? { ...target, dataDir: "", driver: "postgres" } : target);
  try {
    await handle.migrate();
    const password = "BenchPass!2024";
    const passwordHash = await hashPassword(password);
    const make = (name: string, roleNames: string[], patient = false) =>
      createAccount(handle.db, {
        username: name,
        email: `${name}@example.com`,
        passwordHash,
        roleNames,
        patientProfile: patient ? { firstName: "Bench", lastName: name } : undefined,
      });
    const patient = await make("bench", ["patient"], true);
    const doctor = await make("bench-doctor", ["doctor"]);
    await handle.db.insert(doctorProfiles).values({ userId: doctor.id, firstName: "Bench", lastName: "Doctor" });
    const admin = await make("bench-admin", ["admin"]);
    for (let i = 0; i < 199; i++) await make(`bench-patient-${i}`, ["patient"], true);
    await handle.db.insert(appointments).values(Array.from({ length: 200 }, (_, k) => {
      const start = new Date(Date.UTC(2030, 0, 1) + k * 3600_000);
      return {
        patientId: patient.id,
        doctorId: doctor.id,
        appointmentDate: start,
        durationMinutes: 30,
        endsAt: new Date(start.getTime() + 30 * 60_000),
        reason: `seed ${k}`,
      };
    }));
    return { password, patient, doctor, admin };
  } finally {
    await handle.close();
  }
}
