import { sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import { queryRows } from "./client.ts";
import { appointments, outbox } from "./schema.ts";

/**
 * Claims the reminders due (live appointments starting within `leadMs` that have none yet) and
 * writes their outbox events, in one statement: the UPDATE's row locks make each reminder go out
 * once, whichever instance runs it and however many do. Returns how many it claimed.
 */
export async function claimDueReminders(db: Database, now: Date, leadMs: number): Promise<number> {
  const until = new Date(now.getTime() + leadMs);
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`with due as (
      update ${appointments} set reminder_sent_at = ${now.toISOString()}::timestamptz
      where ${appointments.reminderSentAt} is null and ${appointments.status} in ('scheduled', 'rescheduled')
        and ${appointments.appointmentDate} > ${now.toISOString()}::timestamptz
        and ${appointments.appointmentDate} <= ${until.toISOString()}::timestamptz
      returning ${appointments.id}, ${appointments.patientId}, ${appointments.doctorId}, ${appointments.appointmentDate}
    ), queued as (
      insert into ${outbox} (topic, payload, created_at, available_at)
      select 'appointment.reminder', jsonb_build_object('appointment', id, 'patient', patient_id,
          'doctor', doctor_id, 'at', to_char(appointment_date at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
        ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
      from due returning 1
    )
    select count(*)::int as n from queued`,
  );
  return Number(row.n);
}
