/**
 * Seeds the configured database for the external benchmark harness (`run.sh`, not in this
 * repository): a patient `bench@example.com`, a doctor, an admin `bench-admin@example.com` (both
 * with password `BenchPass!2024`) and 200 more patient profiles. Prints the ids run.sh needs.
 * `deno run -A scripts/bench_seed.ts`
 */
import { loadConfig } from "../config.ts";
import { doctorProfiles } from "../db/schema.ts";
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
await handle.db.insert(doctorProfiles).values({ userId: doctor.id, firstName: "Bench", lastName: "Doctor" });
await make("bench-admin", ["admin"]);
for (let i = 0; i < 199; i++) await make(`bench-patient-${i}`, ["patient"], true);
console.log(`PATIENT_ID=${patient.id} DOCTOR_ID=${doctor.id}`);
await handle.close();
