import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  char,
  check,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";

/** Postgres `bytea`; drizzle-orm has no built-in column for it. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
});

/**
 * UTC instants at millisecond precision: what a JS Date holds, so a value read back compares
 * equal to the stored one (keyset cursors depend on it).
 */
const utc = (name: string) => timestamp(name, { withTimezone: true, mode: "date", precision: 3 });
const createdAt = () => utc("created_at").notNull().defaultNow();
const updatedAt = () => utc("updated_at").notNull().defaultNow();
const userRef = (name: string) => integer(name).notNull().references(() => users.id, { onDelete: "restrict" });

export const ACCOUNT_STATUSES = ["active", "suspended", "deactivated"] as const;

export const users = pgTable("users", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  username: varchar({ length: 150 }).notNull(),
  email: varchar({ length: 254 }).notNull(),
  passwordHash: varchar("password_hash", { length: 255 }).notNull(),
  phone: varchar({ length: 32 }),
  accountStatus: varchar("account_status", { length: 16 }).notNull().default("active"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  lastLogin: utc("last_login"),
}, (t) => [
  uniqueIndex("users_username_lower_key").on(sql`lower(${t.username})`),
  uniqueIndex("users_email_lower_key").on(sql`lower(${t.email})`),
  check("users_account_status_check", sql`${t.accountStatus} in ('active', 'suspended', 'deactivated')`),
  check("users_email_shape_check", sql`${t.email} like '%_@_%'`),
  // A username never looks like an e-mail address, so sign-in by an address can only match an e-mail.
  check("users_username_not_email_check", sql`position('@' in ${t.username}) = 0`),
]);

export const roles = pgTable("roles", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  roleName: varchar("role_name", { length: 50 }).notNull().unique(),
  description: varchar({ length: 500 }).notNull().default(""),
  builtin: boolean().notNull().default(false),
  createdAt: createdAt(),
}, (t) => [check("roles_role_name_check", sql`${t.roleName} ~ '^[a-z][a-z0-9_-]{1,49}$'`)]);

export const rolePermissions = pgTable("role_permissions", {
  roleId: integer("role_id").notNull().references(() => roles.id, { onDelete: "cascade" }),
  permission: varchar({ length: 64 }).notNull(),
}, (t) => [primaryKey({ columns: [t.roleId, t.permission] })]);

export const userRoles = pgTable("user_roles", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  roleId: integer("role_id").notNull().references(() => roles.id, { onDelete: "restrict" }),
  assignedAt: utc("assigned_at").notNull().defaultNow(),
}, (t) => [unique("user_roles_user_role_key").on(t.userId, t.roleId), index("user_roles_role_idx").on(t.roleId)]);

/** A signed-in device. Access tokens carry its id; revoking it ends every token issued for it. */
export const sessions = pgTable("sessions", {
  id: uuid().primaryKey(),
  userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  createdAt: createdAt(),
  lastUsedAt: utc("last_used_at").notNull().defaultNow(),
  expiresAt: utc("expires_at").notNull(),
  revokedAt: utc("revoked_at"),
  revokedReason: varchar("revoked_reason", { length: 32 }),
  ipAddress: varchar("ip_address", { length: 64 }),
  userAgent: varchar("user_agent", { length: 500 }),
}, (t) => [
  index("sessions_user_idx").on(t.userId),
  check("sessions_revoked_reason_check", sql`(${t.revokedAt} is null) = (${t.revokedReason} is null)`),
]);

/** Opaque refresh tokens `id.secret`: only SHA-256(secret) is stored; each is spent once. */
export const refreshTokens = pgTable("refresh_tokens", {
  id: uuid().primaryKey(),
  sessionId: uuid("session_id").notNull().references(() => sessions.id, { onDelete: "cascade" }),
  secretHash: bytea("secret_hash").notNull(),
  createdAt: createdAt(),
  expiresAt: utc("expires_at").notNull(),
  spentAt: utc("spent_at"),
}, (t) => [index("refresh_tokens_session_idx").on(t.sessionId)]);

export const passwordResetTokens = pgTable("password_reset_tokens", {
  id: uuid().primaryKey(),
  userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  secretHash: bytea("secret_hash").notNull(),
  createdAt: createdAt(),
  expiresAt: utc("expires_at").notNull(),
  usedAt: utc("used_at"),
}, (t) => [index("password_reset_tokens_user_idx").on(t.userId)]);

/** Fixed-window counters shared by every instance (sign-in and reset throttling). */
export const rateLimits = pgTable("rate_limits", {
  bucket: varchar({ length: 300 }).primaryKey(),
  windowStart: utc("window_start").notNull(),
  hits: integer().notNull(),
}, (t) => [index("rate_limits_window_idx").on(t.windowStart)]);

export const patientProfiles = pgTable("patient_profiles", {
  userId: integer("user_id").primaryKey().references(() => users.id, { onDelete: "cascade" }),
  firstName: varchar("first_name", { length: 100 }).notNull().default(""),
  lastName: varchar("last_name", { length: 100 }).notNull().default(""),
  dateOfBirth: date("date_of_birth", { mode: "string" }),
  phone: varchar({ length: 32 }),
  address: varchar({ length: 500 }),
  emergencyContact: varchar("emergency_contact", { length: 500 }),
  medicalHistory: varchar("medical_history", { length: 5000 }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  index("patient_profiles_name_idx").on(t.lastName, t.firstName),
  check("patient_profiles_dob_check", sql`${t.dateOfBirth} is null or ${t.dateOfBirth} > '1900-01-01'`),
]);

export const doctorProfiles = pgTable("doctor_profiles", {
  userId: integer("user_id").primaryKey().references(() => users.id, { onDelete: "cascade" }),
  firstName: varchar("first_name", { length: 100 }).notNull().default(""),
  lastName: varchar("last_name", { length: 100 }).notNull().default(""),
  specialization: varchar({ length: 100 }).notNull().default(""),
  bio: varchar({ length: 5000 }).notNull().default(""),
  workingHours: jsonb("working_hours"),
  timeZone: varchar("time_zone", { length: 64 }).notNull().default("UTC"),
  /** What one appointment costs, in minor units of `currency` (what a payment is checked against). */
  consultationFee: bigint("consultation_fee", { mode: "number" }).notNull().default(0),
  currency: char({ length: 3 }).notNull().default("USD"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  index("doctor_profiles_specialization_idx").on(sql`lower(${t.specialization})`),
  check("doctor_profiles_consultation_fee_check", sql`${t.consultationFee} between 0 and 100000000000`),
  check("doctor_profiles_currency_check", sql`${t.currency} ~ '^[A-Z]{3}$'`),
]);

export const APPOINTMENT_STATUSES = ["scheduled", "cancelled", "completed", "rescheduled", "no_show"] as const;

/**
 * `ends_at` is stored (not generated) because `timestamptz + interval` is not immutable; a check
 * keeps it equal to start + duration, and the exclusion constraint (in a custom migration) uses it.
 */
export const appointments = pgTable("appointments", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  patientId: userRef("patient_id"),
  doctorId: userRef("doctor_id"),
  appointmentDate: utc("appointment_date").notNull(),
  durationMinutes: integer("duration_minutes").notNull().default(30),
  endsAt: utc("ends_at").notNull(),
  status: varchar({ length: 16 }).notNull().default("scheduled"),
  notes: varchar({ length: 5000 }).notNull().default(""),
  reason: varchar({ length: 5000 }).notNull().default(""),
  cancellationReason: varchar("cancellation_reason", { length: 5000 }).notNull().default(""),
  /** When its reminder was sent (set once, by whichever instance claims it; cleared on a reschedule). */
  reminderSentAt: utc("reminder_sent_at"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  index("appointments_reminder_idx").on(t.appointmentDate).where(
    sql`${t.reminderSentAt} is null and ${t.status} in ('scheduled', 'rescheduled')`,
  ),
  index("appointments_patient_date_idx").on(t.patientId, t.appointmentDate, t.id),
  index("appointments_doctor_date_idx").on(t.doctorId, t.appointmentDate, t.id),
  index("appointments_date_idx").on(t.appointmentDate, t.id),
  index("appointments_status_idx").on(t.status),
  // "Under care" checks: does this doctor share a live appointment with this patient?
  index("appointments_care_idx").on(t.doctorId, t.patientId).where(sql`${t.status} <> 'cancelled'`),
  check(
    "appointments_status_check",
    sql`${t.status} in ('scheduled', 'cancelled', 'completed', 'rescheduled', 'no_show')`,
  ),
  check("appointments_duration_check", sql`${t.durationMinutes} between 5 and 480`),
  check(
    "appointments_ends_at_check",
    sql`${t.endsAt} = ${t.appointmentDate} + make_interval(mins => ${t.durationMinutes})`,
  ),
  check("appointments_distinct_parties_check", sql`${t.patientId} <> ${t.doctorId}`),
]);

export const prescriptions = pgTable("prescriptions", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  patientId: userRef("patient_id"),
  doctorId: userRef("doctor_id"),
  medication: varchar({ length: 200 }).notNull(),
  dosage: varchar({ length: 100 }).notNull(),
  frequency: varchar({ length: 100 }).notNull(),
  instructions: varchar({ length: 5000 }).notNull().default(""),
  refillRequested: boolean("refill_requested").notNull().default(false),
  requestDate: utc("request_date"),
  approvedDate: utc("approved_date"),
  denialReason: varchar("denial_reason", { length: 5000 }),
  status: varchar({ length: 16 }).notNull().default("active"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  index("prescriptions_patient_idx").on(t.patientId, t.id),
  index("prescriptions_doctor_idx").on(t.doctorId, t.id),
  check("prescriptions_status_check", sql`${t.status} in ('active', 'completed', 'cancelled')`),
]);

/** Every change to a prescription, as the row looked after it. */
export const prescriptionHistory = pgTable("prescription_history", {
  id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  prescriptionId: integer("prescription_id").notNull().references(() => prescriptions.id, { onDelete: "cascade" }),
  changedBy: integer("changed_by").references(() => users.id, { onDelete: "set null" }),
  change: varchar({ length: 32 }).notNull(),
  snapshot: jsonb().notNull(),
  changedAt: utc("changed_at").notNull().defaultNow(),
}, (t) => [index("prescription_history_prescription_idx").on(t.prescriptionId, t.id)]);

export const labFiles = pgTable("lab_files", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  name: varchar({ length: 255 }).notNull(),
  contentType: varchar("content_type", { length: 100 }).notNull(),
  size: integer().notNull(),
  sha256: char({ length: 64 }).notNull(),
  content: bytea().notNull(),
  createdAt: createdAt(),
}, (t) => [
  check("lab_files_size_check", sql`${t.size} between 0 and 10485760 and ${t.size} = octet_length(${t.content})`),
  check(
    "lab_files_content_type_check",
    sql`${t.contentType} in ('application/pdf', 'image/png', 'image/jpeg', 'text/plain')`,
  ),
]);

export const labResults = pgTable("lab_results", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  patientId: userRef("patient_id"),
  physicianId: userRef("physician_id"),
  testType: varchar("test_type", { length: 100 }).notNull(),
  resultValue: varchar("result_value", { length: 5000 }).notNull().default(""),
  unit: varchar({ length: 50 }).notNull().default(""),
  referenceRange: varchar("reference_range", { length: 100 }).notNull().default(""),
  resultDate: utc("result_date").notNull().defaultNow(),
  comments: varchar({ length: 5000 }).notNull().default(""),
  status: varchar({ length: 16 }).notNull().default("preliminary"),
  fileId: integer("file_id").references(() => labFiles.id, { onDelete: "restrict" }),
  /** Set on the earlier version when a correction replaces it. */
  supersededById: integer("superseded_by_id"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  index("lab_results_patient_idx").on(t.patientId, t.id),
  index("lab_results_physician_idx").on(t.physicianId, t.id),
  check("lab_results_status_check", sql`${t.status} in ('preliminary', 'final', 'corrected')`),
]);

/**
 * Money in integer minor units. Only the provider flow moves `status` (a trigger in migration
 * 0010 refuses any other transition, any change of a money field and any DELETE); at most one
 * payment of an appointment is pending at a time.
 */
export const payments = pgTable("payments", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  patientId: userRef("patient_id"),
  appointmentId: integer("appointment_id").notNull().references(() => appointments.id, { onDelete: "restrict" }),
  amount: bigint({ mode: "number" }).notNull(),
  currency: char({ length: 3 }).notNull(),
  paymentMethod: varchar("payment_method", { length: 32 }).notNull(),
  status: varchar({ length: 16 }).notNull().default("pending"),
  provider: varchar({ length: 16 }).notNull(),
  providerReference: varchar("provider_reference", { length: 200 }),
  /** The provider's receipt (Stripe charge id, M-Pesa receipt number) once completed. */
  providerReceipt: varchar("provider_receipt", { length: 200 }),
  refundedAmount: bigint("refunded_amount", { mode: "number" }).notNull().default(0),
  failureReason: varchar("failure_reason", { length: 500 }),
  notes: varchar({ length: 1000 }).notNull().default(""),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  index("payments_patient_idx").on(t.patientId, t.id),
  index("payments_appointment_idx").on(t.appointmentId),
  index("payments_created_idx").on(t.createdAt, t.id),
  uniqueIndex("payments_provider_reference_key").on(t.provider, t.providerReference),
  uniqueIndex("payments_one_pending_key").on(t.appointmentId).where(sql`${t.status} = 'pending'`),
  check("payments_amount_check", sql`${t.amount} > 0`),
  check("payments_refunded_amount_check", sql`${t.refundedAmount} between 0 and ${t.amount}`),
  check("payments_currency_check", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  check("payments_status_check", sql`${t.status} in ('pending', 'completed', 'failed', 'refunded')`),
  check("payments_provider_check", sql`${t.provider} in ('stripe', 'mpesa', 'sandbox')`),
  check("payments_payment_method_check", sql`${t.paymentMethod} in ('card', 'mpesa')`),
  // Refunds only of money taken; `refunded` exactly when all of it went back.
  check(
    "payments_refund_state_check",
    sql`(${t.status} = 'refunded') = (${t.refundedAmount} = ${t.amount}) and (${t.refundedAmount} = 0 or ${t.status} in ('completed', 'refunded'))`,
  ),
  // Without a reference: pending, or failed because the provider never answered the request.
  check(
    "payments_reference_check",
    sql`${t.status} in ('pending', 'failed') or ${t.providerReference} is not null`,
  ),
]);

/** Webhook events already applied, by the provider's event id: a replayed event changes nothing. */
export const paymentEvents = pgTable("payment_events", {
  id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  provider: varchar({ length: 16 }).notNull(),
  eventId: varchar("event_id", { length: 255 }).notNull(),
  eventType: varchar("event_type", { length: 64 }).notNull(),
  paymentId: integer("payment_id").references(() => payments.id, { onDelete: "restrict" }),
  receivedAt: utc("received_at").notNull().defaultNow(),
}, (t) => [unique("payment_events_provider_event_key").on(t.provider, t.eventId)]);

/** A retried POST with the same `Idempotency-Key` replays the first response instead of acting again. */
export const idempotencyKeys = pgTable("idempotency_keys", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  key: varchar({ length: 255 }).notNull(),
  requestHash: char("request_hash", { length: 64 }).notNull(),
  responseStatus: integer("response_status"),
  responseBody: jsonb("response_body"),
  createdAt: createdAt(),
}, (t) => [
  unique("idempotency_keys_user_key").on(t.userId, t.key),
  index("idempotency_keys_created_idx").on(t.createdAt),
]);

export const notifications = pgTable("notifications", {
  id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  title: varchar({ length: 200 }).notNull(),
  message: varchar({ length: 5000 }).notNull(),
  type: varchar({ length: 16 }).notNull().default("general"),
  status: varchar({ length: 8 }).notNull().default("unread"),
  createdAt: createdAt(),
  /** The outbox event it was made from (none for one an administrator wrote): one per event and user. */
  outboxId: bigint("outbox_id", { mode: "number" }),
  readAt: utc("read_at"),
}, (t) => [
  index("notifications_user_idx").on(t.userId, t.id),
  index("notifications_unread_idx").on(t.userId).where(sql`${t.status} = 'unread'`),
  unique("notifications_event_user_key").on(t.outboxId, t.userId),
  check(
    "notifications_type_check",
    sql`${t.type} in ('appointment', 'payment', 'prescription', 'lab_result', 'message', 'general')`,
  ),
  check("notifications_status_check", sql`${t.status} in ('unread', 'read')`),
]);

export const messages = pgTable("messages", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  senderId: userRef("sender_id"),
  receiverId: userRef("receiver_id"),
  messageBody: varchar("message_body", { length: 5000 }).notNull(),
  sentAt: utc("sent_at").notNull().defaultNow(),
  readStatus: boolean("read_status").notNull().default(false),
  readAt: utc("read_at"),
}, (t) => [
  index("messages_sender_idx").on(t.senderId, t.receiverId, t.id),
  index("messages_receiver_idx").on(t.receiverId, t.senderId, t.id),
  index("messages_unread_idx").on(t.receiverId).where(sql`not ${t.readStatus}`),
  check("messages_distinct_parties_check", sql`${t.senderId} <> ${t.receiverId}`),
  check("messages_read_check", sql`${t.readStatus} = (${t.readAt} is not null)`),
]);

/**
 * Per user: which categories of notification also go by e-mail, and quiet hours (local times in
 * their zone) during which no mail is sent; mail held back goes out when they end.
 */
export const notificationPreferences = pgTable("notification_preferences", {
  userId: integer("user_id").primaryKey().references(() => users.id, { onDelete: "cascade" }),
  /** `{category: {in_app: boolean, email: boolean}}`; categories left out keep the defaults. */
  channels: jsonb().notNull().default({}),
  quietStart: varchar("quiet_start", { length: 5 }),
  quietEnd: varchar("quiet_end", { length: 5 }),
  timeZone: varchar("time_zone", { length: 64 }).notNull().default("UTC"),
  updatedAt: updatedAt(),
}, (t) => [
  check("notification_preferences_quiet_check", sql`(${t.quietStart} is null) = (${t.quietEnd} is null)`),
]);

export const integrationLogs = pgTable("integration_logs", {
  id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  systemName: varchar("system_name", { length: 50 }).notNull(),
  dataType: varchar("data_type", { length: 50 }).notNull(),
  dataReference: varchar("data_reference", { length: 200 }).notNull().default(""),
  syncStatus: varchar("sync_status", { length: 16 }).notNull(),
  detail: varchar({ length: 2000 }).notNull().default(""),
  /** How long the exchange took (outbound calls), in milliseconds. */
  latencyMs: integer("latency_ms"),
  /** Which try of the same call this was (1 for the first). */
  attempt: integer().notNull().default(1),
  /** The administrator who appended the entry (`POST /integrationlogs/`); null when the system wrote it. */
  appendedBy: integer("appended_by"),
  createdAt: createdAt(),
}, (t) => [
  index("integration_logs_created_idx").on(t.createdAt, t.id),
  index("integration_logs_system_idx").on(t.systemName, t.createdAt, t.id),
  check("integration_logs_sync_status_check", sql`${t.syncStatus} in ('pending', 'success', 'failed')`),
  check("integration_logs_latency_check", sql`${t.latencyMs} is null or ${t.latencyMs} >= 0`),
  check("integration_logs_attempt_check", sql`${t.attempt} between 1 and 100`),
]);

/**
 * Events written in the same transaction as the change they describe (appointment booked, lab
 * result released, …); a relay turns each into notifications once, on any instance.
 */
export const outbox = pgTable("outbox", {
  id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  topic: varchar({ length: 64 }).notNull(),
  payload: jsonb().notNull(),
  createdAt: createdAt(),
  /** Not relayed before this instant (mail held back by quiet hours). */
  availableAt: utc("available_at").notNull().defaultNow(),
  processedAt: utc("processed_at"),
  attempts: integer().notNull().default(0),
}, (t) => [index("outbox_pending_idx").on(t.availableAt, t.id).where(sql`${t.processedAt} is null`)]);

export const AUDIT_ACTIONS = [
  "read",
  "list",
  "create",
  "update",
  "delete",
  "download",
  "export",
  "login",
  "login_failed",
  "logout",
  "token_refresh",
  "token_reuse",
  "password_reset",
  "permission_change",
  "access_denied",
] as const;
export const AUDIT_OUTCOMES = ["success", "denied", "error"] as const;
const SYSTEM_ACTIONS = AUDIT_ACTIONS.map((a) => `'${a}'`).join(", ");

/** Append-only: a trigger (custom migration) refuses UPDATE, DELETE and TRUNCATE. */
export const auditLogs = pgTable("audit_logs", {
  id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  userId: integer("user_id"),
  role: varchar({ length: 200 }),
  action: varchar({ length: 32 }).notNull(),
  targetTable: varchar("target_table", { length: 64 }),
  targetId: varchar("target_id", { length: 2000 }),
  patientId: integer("patient_id"),
  /** Every patient whose record the request touched (a list can touch many). */
  patientIds: integer("patient_ids").array().notNull().default(sql`'{}'`),
  ipAddress: varchar("ip_address", { length: 64 }),
  userAgent: varchar("user_agent", { length: 500 }),
  /** The server's own id of the request (a UUID). */
  requestId: varchar("request_id", { length: 100 }),
  /** The id the client sent as X-Request-Id, when well-formed (never trusted as the record's id). */
  clientRequestId: varchar("client_request_id", { length: 100 }),
  outcome: varchar({ length: 16 }).notNull(),
  // Microseconds, as hashed into the chain since migration 0003 (db/audit_logs.ts pages on the exact text).
  eventTimestamp: timestamp("event_timestamp", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  details: jsonb().notNull().default({}),
  /** An event a user appended (`POST /auditlogs/`), as opposed to one the system recorded. */
  appended: boolean().notNull().default(false),
  /**
   * Hash chain, set once by the sealer (services/audit_sealer.ts) after the insert: position, the
   * previous row's hash, and this row's HMAC. NULL until sealed.
   */
  chainSeq: bigint("chain_seq", { mode: "number" }),
  prevHash: char("prev_hash", { length: 64 }),
  rowHash: char("row_hash", { length: 64 }),
}, (t) => [
  uniqueIndex("audit_logs_chain_seq_key").on(t.chainSeq),
  index("audit_logs_unsealed_idx").on(t.id).where(sql`${t.chainSeq} is null`),
  index("audit_logs_patient_ids_idx").using("gin", t.patientIds),
  index("audit_logs_action_idx").on(t.action, t.id),
  index("audit_logs_timestamp_idx").on(t.eventTimestamp, t.id),
  index("audit_logs_user_idx").on(t.userId, t.id),
  index("audit_logs_patient_idx").on(t.patientId, t.id),
  index("audit_logs_target_idx").on(t.targetTable, t.targetId),
  // System actions are the fixed list; an appended event names its own, never one of them.
  check(
    "audit_logs_action_check",
    sql.raw(
      `(not appended and action in (${SYSTEM_ACTIONS})) or (appended and action ~ '^[a-z][a-z0-9_]{0,31}$' and action not in (${SYSTEM_ACTIONS}))`,
    ),
  ),
  check("audit_logs_outcome_check", sql`${t.outcome} in ('success', 'denied', 'error')`),
]);

/**
 * The last chain position sealed with the old unkeyed SHA-256 digest (migration 0011); every later
 * position is an HMAC. One row, written by that migration and never changed (a trigger refuses it).
 */
export const auditChainLegacy = pgTable("audit_chain_legacy", {
  id: boolean().primaryKey().default(true),
  lastSeq: bigint("last_seq", { mode: "number" }).notNull(),
}, (t) => [check("audit_chain_legacy_one_row_check", sql`${t.id}`)]);
