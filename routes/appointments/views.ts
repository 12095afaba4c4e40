import type { AppointmentListRow, AppointmentRow } from "../../services/appointments.ts";
import { isoOf } from "../../services/clock.ts";
import type { AppointmentStatus } from "../../services/appointment_rules.ts";

export function appointmentView(a: AppointmentRow | AppointmentListRow) {
  return {
    id: a.id,
    patient: a.patientId,
    doctor: a.doctorId,
    appointment_date: isoOf(a.appointmentDate),
    duration_minutes: a.durationMinutes,
    status: a.status as AppointmentStatus,
    notes: a.notes,
    reason: a.reason,
    cancellation_reason: a.cancellationReason,
    created_at: isoOf(a.createdAt),
    updated_at: isoOf(a.updatedAt),
  };
}
