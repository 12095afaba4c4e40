import { appointments } from "../db/schema.ts";
import type { Actor, TestApp } from "./_fixtures.ts";

// Care appointments sit 3 years out, 7 hours apart, one slot per call in this process: random
// times collided now and then with another of the same doctor (the exclusion constraint), and this
// far out they cannot meet an appointment a test books itself.
const careAnchor = Math.ceil(Date.now() / 3600_000) * 3600_000 + 3 * 365 * 86400_000;
let careSlot = 0;

/** Gives the doctor the patient under care: a shared appointment (cancelled ones do not count). */
export async function putUnderCare(api: TestApp, doctor: Actor, patient: Actor, status = "scheduled") {
  const start = new Date(careAnchor + careSlot++ * 7 * 3600_000);
  await api.db.insert(appointments).values({
    patientId: patient.id,
    doctorId: doctor.id,
    appointmentDate: start,
    durationMinutes: 30,
    endsAt: new Date(start.getTime() + 30 * 60_000),
    status,
  });
}

/**
 * A patient under the care of a doctor and a colleague, another patient of the doctor, and a
 * doctor with neither under care; each signed in.
 */
export async function careCircle(api: TestApp) {
  const [patient, other] = [await api.makePatient(), await api.makePatient()];
  const [doctor, colleague, stranger] = [await api.makeDoctor(), await api.makeDoctor(), await api.makeDoctor()];
  await putUnderCare(api, doctor, patient);
  await putUnderCare(api, colleague, patient);
  await putUnderCare(api, doctor, other);
  const token = async (who: Actor) => (await api.signIn(who)).access;
  return {
    patient,
    other,
    doctor,
    colleague,
    stranger,
    tokens: {
      patient: await token(patient),
      other: await token(other),
      doctor: await token(doctor),
      colleague: await token(colleague),
      stranger: await token(stranger),
    },
  };
}
