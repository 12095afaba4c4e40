/** Views shared by more than one resource: a user, a patient profile, a doctor profile. */
import type { DoctorRow } from "../services/doctors.ts";
import type { PatientListRow, PatientRow } from "../services/patients.ts";
import { isoOf } from "../services/clock.ts";
import type { UserWithRoles } from "../services/accounts.ts";

export type AccountStatus = "active" | "suspended" | "deactivated";

/** The public shape of a user (contract field names); never the password hash. */
export function userView(user: UserWithRoles) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    phone: user.phone,
    account_status: user.accountStatus as AccountStatus,
    roles: user.roles,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    last_login: user.lastLogin?.toISOString() ?? null,
  };
}

export function patientView(p: PatientRow | PatientListRow) {
  return {
    id: p.userId,
    user: p.userId,
    first_name: p.firstName,
    last_name: p.lastName,
    date_of_birth: p.dateOfBirth,
    phone: p.phone,
    address: p.address,
    emergency_contact: p.emergencyContact,
    medical_history: p.medicalHistory,
    created_at: isoOf(p.createdAt),
    updated_at: isoOf(p.updatedAt),
  };
}

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
type Interval = { start: string; end: string };
type WeeklyHours = Partial<Record<typeof WEEKDAYS[number], Interval[]>>;

export function doctorView(d: DoctorRow) {
  return {
    id: d.userId,
    user: d.userId,
    first_name: d.firstName,
    last_name: d.lastName,
    specialization: d.specialization,
    bio: d.bio,
    working_hours: weekOrder(d.workingHours),
    time_zone: d.timeZone,
    consultation_fee: d.consultationFee,
    currency: d.currency,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

/** Stored hours in calendar order, each interval as `{start, end}` (jsonb keeps keys in its own order). */
function weekOrder(stored: unknown): WeeklyHours | null {
  if (!stored || typeof stored !== "object") return null;
  const hours = stored as Record<string, Interval[] | undefined>;
  return Object.fromEntries(
    WEEKDAYS.filter((d) => hours[d]).map((d) => [d, hours[d]!.map(({ start, end }) => ({ start, end }))]),
  );
}
