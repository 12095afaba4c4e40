/**
 * `deno task seed:demo`: a working portal in one command. On the configured database (the embedded
 * one by default) it creates an administrator, two doctors with working hours, three patients,
 * appointments, prescriptions and lab results, and prints the accounts with their passwords
 * (random, shown once). Run again, it changes nothing and says so. It refuses APP_ENV=production:
 * demo accounts with printed passwords do not belong there.
 */
import { eq } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { insertAppointment } from "../db/appointments.ts";
import { createLabResult } from "../db/lab_results.ts";
import { createPrescription } from "../db/prescriptions.ts";
import { appointments, doctorProfiles, users } from "../db/schema.ts";
import { insertAccount, type NewAccount } from "../db/users.ts";
import { sha256Hex } from "../services/file_types.ts";
import { hashPassword, passwordProblem } from "../services/passwords.ts";
import { prescriptionRecord } from "../services/prescriptions.ts";
import { configOrExplain, databaseOrExplain, oneLine } from "./_cli.ts";

export interface DemoAccount {
  role: "admin" | "doctor" | "patient";
  username: string;
  email: string;
  password: string;
  name: string;
}

/** The account whose presence means the demo data is already there. */
export const DEMO_ADMIN = "demo_admin";

const WEEKDAY_HOURS = [{ start: "09:00", end: "12:00" }, { start: "13:00", end: "17:00" }];
const DOCTORS = [
  {
    username: "dr_grey",
    first: "Meredith",
    last: "Grey",
    specialization: "General practice",
    timeZone: "Europe/Paris",
    hours: { mon: WEEKDAY_HOURS, tue: WEEKDAY_HOURS, wed: WEEKDAY_HOURS, thu: WEEKDAY_HOURS, fri: WEEKDAY_HOURS },
  },
  {
    username: "dr_house",
    first: "Gregory",
    last: "House",
    specialization: "Diagnostic medicine",
    timeZone: "America/New_York",
    hours: { mon: [{ start: "10:00", end: "18:00" }], wed: [{ start: "10:00", end: "18:00" }] },
  },
];
const PATIENTS = [
  { username: "alice", first: "Alice", last: "Martin", dob: "1984-03-12" },
  { username: "bob", first: "Bob", last: "Nguyen", dob: "1990-11-02" },
  { username: "carol", first: "Carol", last: "Okafor", dob: "1972-07-25" },
];

/** A password the policy accepts and nobody guesses: 16 random letters and digits. */
function randomPassword(username: string, email: string): string {
  while (true) {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    const password = btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, "").slice(0, 16);
    if (password.length === 16 && !passwordProblem(password, { username, email })) return password;
  }
}

/** Days from `now` to the next weekday in `days` (0 = Sunday), at `hourUtc`:00 UTC, at least one day ahead. */
function nextDay(now: Date, days: number[], hourUtc: number, skip = 0): Date {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, hourUtc));
  let found = 0;
  while (!days.includes(d.getUTCDay()) || found++ < skip) d.setUTCDate(d.getUTCDate() + 1);
  return d;
}

/** Creates the demo data in one transaction and returns its accounts; null when it is already there. */
export async function seedDemo(db: Database, now = new Date()): Promise<DemoAccount[] | null> {
  const existing = await db.select({ id: users.id }).from(users).where(eq(users.username, DEMO_ADMIN));
  if (existing.length > 0) return null;
  const accounts: DemoAccount[] = [];
  const account = async (
    tx: Database,
    role: DemoAccount["role"],
    username: string,
    name: string,
    patientProfile?: NewAccount["patientProfile"],
  ) => {
    const email = `${username}@demo.example`;
    const password = randomPassword(username, email);
    const passwordHash = await hashPassword(password);
    const user = await insertAccount(tx, { username, email, passwordHash, roleNames: [role], patientProfile });
    accounts.push({ role, username, email, password, name });
    return user.id;
  };
  await db.transaction(async (t) => {
    const tx = t as unknown as Database;
    await account(tx, "admin", DEMO_ADMIN, "Demo administrator");
    const doctors: number[] = [];
    for (const d of DOCTORS) {
      const id = await account(tx, "doctor", d.username, `Dr ${d.first} ${d.last}`);
      await tx.insert(doctorProfiles).values({
        userId: id,
        firstName: d.first,
        lastName: d.last,
        specialization: d.specialization,
        bio: `${d.specialization}. A demo doctor.`,
        workingHours: d.hours,
        timeZone: d.timeZone,
      });
      doctors.push(id);
    }
    const patients: number[] = [];
    for (const p of PATIENTS) {
      patients.push(
        await account(tx, "patient", p.username, `${p.first} ${p.last}`, {
          firstName: p.first,
          lastName: p.last,
          dateOfBirth: p.dob,
        }),
      );
    }
    const [grey, house] = doctors;
    const [alice, bob, carol] = patients;
    const book = async (patientId: number, doctorId: number, at: Date, reason: string) => {
      const values = { patientId, doctorId, appointmentDate: at, durationMinutes: 30, reason, notes: "" };
      const row = await insertAppointment(tx, values, now);
      if (!row) throw new Error(`demo data: the slot at ${at.toISOString()} is taken`);
      return row;
    };
    // 09:00 UTC is within Dr Grey's Paris morning, 16:00 UTC within Dr House's New York day, all year.
    await book(alice, grey, nextDay(now, [1, 2, 3, 4, 5], 9), "Annual check-up");
    await book(bob, grey, nextDay(now, [1, 2, 3, 4, 5], 9, 1), "Persistent cough");
    await book(carol, house, nextDay(now, [1, 3], 16), "Unexplained fatigue");
    await book(alice, house, nextDay(now, [1, 3], 16, 1), "Second opinion");
    const past = await book(carol, grey, new Date(now.getTime() - 14 * 86400_000), "Blood pressure review");
    // A visit that took place (the API books only the future).
    await tx.update(appointments).set({ status: "completed" }).where(eq(appointments.id, past.id));
    const prescribe = (doctorId: number, patientId: number, medication: string, dosage: string, frequency: string) =>
      createPrescription(tx, doctorId, { patientId, medication, dosage, frequency }, now, prescriptionRecord);
    await prescribe(grey, alice, "Amoxicillin", "500 mg", "three times a day for 7 days");
    await prescribe(grey, carol, "Lisinopril", "10 mg", "once a day");
    await prescribe(house, carol, "Vitamin D3", "1000 IU", "once a day");
    const result = async (doctorId: number, patientId: number, values: Record<string, string>, file?: string) => {
      const bytes = file === undefined ? undefined : new TextEncoder().encode(file);
      await createLabResult(
        tx,
        doctorId,
        patientId,
        {
          testType: values.test,
          resultValue: values.value,
          unit: values.unit,
          referenceRange: values.range,
          status: values.status,
          resultDate: now,
        },
        bytes && {
          name: `${values.test.toLowerCase().replaceAll(" ", "-")}.txt`,
          contentType: "text/plain",
          size: bytes.length,
          sha256: await sha256Hex(bytes),
          content: bytes,
        },
        now,
      );
    };
    await result(grey, alice, { test: "Glucose", value: "5.4", unit: "mmol/L", range: "3.9-5.6", status: "final" });
    await result(
      grey,
      carol,
      { test: "Lipid panel", value: "LDL 3.1", unit: "mmol/L", range: "< 3.0", status: "final" },
      "Lipid panel\nTotal cholesterol 5.6 mmol/L\nLDL 3.1 mmol/L\nHDL 1.4 mmol/L\n",
    );
    await result(house, carol, { test: "TSH", value: "4.9", unit: "mIU/L", range: "0.4-4.0", status: "preliminary" });
  });
  return accounts;
}

/** The command line; returns the exit code. */
export async function main(config: Config): Promise<number> {
  if (config.APP_ENV === "production") {
    console.error("seed:demo refuses APP_ENV=production: demo accounts with printed passwords do not belong there");
    return 2;
  }
  const handle = await databaseOrExplain(config);
  if (!handle) return 1;
  try {
    if (handle.driver === "pglite") await handle.migrate();
    const accounts = await seedDemo(handle.db);
    const where = handle.driver === "pglite"
      ? `the embedded database in ${config.DATA_DIR}`
      : "the configured database";
    if (!accounts) {
      console.log(
        `The demo data is already in ${where} (user ${DEMO_ADMIN} exists); nothing was changed. ` +
          "Its passwords were printed when it was created.",
      );
      return 0;
    }
    console.log(`Demo data created in ${where}. Accounts (the passwords are shown only now):`);
    const width = Math.max(...accounts.map((a) => a.username.length));
    for (const a of accounts) {
      console.log(`  ${a.role.padEnd(8)} ${a.username.padEnd(width)}  ${a.password}  ${a.name}`);
    }
    console.log(
      "Start the API (deno task dev), open /docs and sign in there, or POST /token/ with a username and password.",
    );
    return 0;
  } catch (e) {
    console.error(`Cannot seed the demo data: ${oneLine(e)}`);
    return 1;
  } finally {
    await handle.close();
  }
}

if (import.meta.main) {
  const config = configOrExplain();
  Deno.exit(config ? await main(config) : 2);
}
