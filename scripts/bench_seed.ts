/**
 * Seeds the configured database for the external benchmark harness (`run.sh`, not in this
 * repository): a patient `bench@example.com`, a doctor, an admin `bench-admin@example.com` (both
 * with password `BenchPass!2024`) and 200 more patient profiles. Prints the ids run.sh needs.
 * `deno run -A scripts/bench_seed.ts`
 * With `PAYABLE_APPOINTMENTS=N`, the doctor's fee is 5000 (USD) and the patient gets N
 * appointments to pay, one per request of `scripts/bench/create_payment.lua`.
 */
import { loadConfig } from "../config.ts";
import { appointments, doctorProfiles } from "../db/schema.ts";
import { openConfiguredDatabase } from "../db/client.ts";
import { hashPassword } from "../services/passwords.ts";
import { createAccount } from "../db/users.ts";

const config = loadConfig();
const handle = await openConfiguredDatabase(config);
await handle.migrate();
const passwordHash = await hashPassword("BenchPass!2024");
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
await handle.db.insert(doctorProfiles).values({
  userId: doctor.id,
  firstName: "Bench",
  lastName: "Doctor",
  consultationFee: 5000,
  currency: "USD",
});
await make("bench-admin", ["admin"]);
for (let i = 0; i < 199; i++) await make(`bench-patient-${i}`, ["patient"], true);
const payable = Number(Deno.env.get("PAYABLE_APPOINTMENTS") ?? 0);
let firstAppointment = 0;
for (let i = 0; i < payable; i += 1000) {
  const rows = Array.from({ length: Math.min(1000, payable - i) }, (_, k) => {
    const start = new Date(Date.UTC(2040, 0, 1) + (i + k) * 3600_000);
    return {
      patientId: patient.id,
      doctorId: doctor.id,
      appointmentDate: start,
      durationMinutes: 30,
      endsAt: new Date(start.getTime() + 30 * 60_000),
    };
  });
  const ids = await handle.db.insert(appointments).values(rows).returning({ id: appointments.id });
  firstAppointment ||= ids[0].id;
}
console.log(
  `PATIENT_ID=${patient.id} DOCTOR_ID=${doctor.id}${payable ? ` FIRST_APPOINTMENT=${firstAppointment}` : ""}`,
);
await handle.close();
