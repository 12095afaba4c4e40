/**
 * What each event tells whom: pure, so it is tested table by table. Titles and messages name
 * no diagnosis, test, medication or message text: they are what a lock screen or an inbox may show.
 */
import type { NotificationType } from "../db/notifications.ts";

export interface PlannedNotification {
  userId: number;
  type: NotificationType;
  title: string;
  message: string;
}

export interface EventFacts {
  topic: string;
  payload: Record<string, unknown>;
  /** Display names of the people the payload names (a doctor's as "Dr. …"). */
  names: Map<number, string>;
}

const when = (iso: unknown) => {
  const date = new Date(String(iso));
  if (Number.isNaN(date.getTime())) return "the planned time";
  return `${date.toISOString().slice(0, 10)} at ${date.toISOString().slice(11, 16)} UTC`;
};

/** The users an event's payload names, to look their names up. */
export function peopleOf(payload: Record<string, unknown>): number[] {
  return ["patient", "doctor", "physician", "sender", "receiver"]
    .map((k) => payload[k])
    .filter((v): v is number => typeof v === "number");
}

export function plan({ topic, payload, names }: EventFacts): PlannedNotification[] {
  const id = (key: string) => payload[key] as number;
  const name = (key: string) => names.get(id(key)) ?? "someone";
  const to = (key: string, type: NotificationType, title: string, message: string): PlannedNotification => ({
    userId: id(key),
    type,
    title,
    message,
  });
  switch (topic) {
    case "appointment.booked":
      return [
        to(
          "patient",
          "appointment",
          "Appointment booked",
          `Your appointment with ${name("doctor")} on ${when(payload.at)} is booked.`,
        ),
        to(
          "doctor",
          "appointment",
          "New appointment",
          `${name("patient")} has an appointment with you on ${when(payload.at)}.`,
        ),
      ];
    case "appointment.cancelled":
      return [
        to("patient", "appointment", "Appointment cancelled", `Your appointment on ${when(payload.at)} was cancelled.`),
        to(
          "doctor",
          "appointment",
          "Appointment cancelled",
          `The appointment with ${name("patient")} on ${when(payload.at)} was cancelled.`,
        ),
      ];
    case "appointment.rescheduled":
      return [
        to("patient", "appointment", "Appointment moved", `Your appointment is now on ${when(payload.at)}.`),
        to(
          "doctor",
          "appointment",
          "Appointment moved",
          `The appointment with ${name("patient")} is now on ${when(payload.at)}.`,
        ),
      ];
    case "appointment.reminder":
      return [
        to(
          "patient",
          "appointment",
          "Appointment reminder",
          `Reminder: your appointment with ${name("doctor")} is on ${when(payload.at)}.`,
        ),
      ];
    case "prescription.refill_requested":
      return [to("doctor", "prescription", "Refill requested", `${name("patient")} asked for a prescription refill.`)];
    case "prescription.refill_approved":
      return [to("patient", "prescription", "Refill approved", "Your prescription refill was approved.")];
    case "prescription.refill_denied":
      return [
        to("patient", "prescription", "Refill declined", "Your prescription refill was declined; see the portal."),
      ];
    case "lab_result.released":
      return [to("patient", "lab_result", "New lab result", "You have a new lab result in the portal.")];
    case "payment.completed":
      return [to("patient", "payment", "Payment received", "Your payment was received. Thank you.")];
    case "payment.failed":
      return [to("patient", "payment", "Payment failed", "A payment did not go through; see the portal.")];
    case "payment.refunded":
      return [to("patient", "payment", "Payment refunded", "A payment was refunded; see the portal.")];
    case "message.sent":
      return [to("receiver", "message", "New message", `New message from ${name("sender")}.`)];
    default:
      return [];
  }
}

/** The e-mail for a notification: never its details, only that there is something in the portal. */
export function mailFor(type: NotificationType): { subject: string; text: string } {
  const what: Record<NotificationType, string> = {
    appointment: "an update about an appointment",
    payment: "an update about a payment",
    prescription: "an update about a prescription",
    lab_result: "a new lab result",
    message: "a new message",
    general: "a new notification",
  };
  return {
    subject: "You have a new notification in the Patient Portal",
    text: `You have ${what[type]} in the Patient Portal.\n\nSign in to read it. ` +
      "For your privacy this e-mail does not contain the details.\n",
  };
}
