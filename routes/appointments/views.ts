import type { AppointmentRow } from "../../services/appointments.ts";
import type { AppointmentStatus } from "../../services/appointment_rules.ts";

export function appointmentView(a: AppointmentRow) {
  return {
    id: a.id,
    patient: a.patientId,
    doctor: a.doctorId,
    appointment_date: a.appointmentDate.toISOString(),
    duration_minutes: a.durationMinutes,
    status: a.status as AppointmentStatus,
    notes: a.notes,
    reason: a.reason,
    cancellation_reason: a.cancellationReason,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}
