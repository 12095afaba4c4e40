import { and, eq } from "drizzle-orm";
import type { Database } from "./client.ts";
import { underCareOf } from "./policies.ts";
import { users } from "./schema.ts";

/** True when the doctor shares a live appointment with this patient. */
export async function isUnderCare(db: Database, doctorId: number, patientId: number): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users)
    .where(and(eq(users.id, patientId), underCareOf(doctorId, users.id)));
  return row !== undefined;
}
