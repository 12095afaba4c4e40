import { assertEquals, assertRejects } from "@std/assert";
import { count } from "drizzle-orm";
import { auditLogs } from "../db/schema.ts";
import { appTest } from "./_fixtures.ts";

appTest("the audit table refuses UPDATE, DELETE and TRUNCATE, even from the database owner", async (_t, api) => {
  const alice = await api.makePatient();
  await api.signIn(alice);
  const [{ n: before }] = await api.db.select({ n: count() }).from(auditLogs);
  assertEquals(before, 1);
  for (const sql of ["UPDATE audit_logs SET outcome = 'error'", "DELETE FROM audit_logs", "TRUNCATE audit_logs"]) {
    await assertRejects(() => api.database.ownerQuery(sql), "append-only");
  }
  const rows = await api.db.select().from(auditLogs);
  assertEquals([rows.length, rows[0].outcome], [1, "success"]);
});

appTest("the database enforces constraints the code also checks", async (_t, api) => {
  const doctor = await api.makeDoctor();
  const patient = await api.makePatient();
  const insert = (start: string, minutes: number, status = "scheduled") =>
    api.database.ownerQuery(
      `insert into appointments (patient_id, doctor_id, appointment_date, duration_minutes, ends_at, status)
      values (${patient.id}, ${doctor.id}, '${start}', ${minutes}, '${start}'::timestamptz + make_interval(mins => ${minutes}), '${status}')`,
    );
  await insert("2031-01-01T09:00:00Z", 30);
  await assertRejects(() => insert("2031-01-01T09:15:00Z", 30), "appointments_doctor_no_overlap");
  await insert("2031-01-01T09:15:00Z", 30, "cancelled");
  await insert("2031-01-01T09:30:00Z", 30);
  await assertRejects(() => insert("2031-01-02T09:00:00Z", 0), "appointments_duration_check");
  await assertRejects(
    () =>
      api.database.ownerQuery(
        `insert into users (username, email, password_hash, account_status) values ('x', 'x@y.z', 'h', 'root')`,
      ),
    "users_account_status_check",
  );
  await assertRejects(
    () =>
      api.database.ownerQuery(
        `insert into payments (patient_id, appointment_id, amount, currency, payment_method, provider)
        values (${patient.id}, (select min(id) from appointments), -5, 'usd', 'card', 'sandbox')`,
      ),
    "payments_",
  );
});
