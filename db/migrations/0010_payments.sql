CREATE TABLE "payment_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "payment_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"provider" varchar(16) NOT NULL,
	"event_id" varchar(255) NOT NULL,
	"event_type" varchar(64) NOT NULL,
	"payment_id" integer,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_events_provider_event_key" UNIQUE("provider","event_id")
);
--> statement-breakpoint
ALTER TABLE "payments" ALTER COLUMN "appointment_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "doctor_profiles" ADD COLUMN "consultation_fee" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "doctor_profiles" ADD COLUMN "currency" char(3) DEFAULT 'USD' NOT NULL;--> statement-breakpoint
ALTER TABLE "integration_logs" ADD COLUMN "latency_ms" integer;--> statement-breakpoint
ALTER TABLE "integration_logs" ADD COLUMN "attempt" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "integration_logs" ADD COLUMN "appended_by" integer;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "provider" varchar(16) NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "provider_receipt" varchar(200);--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refunded_amount" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "failure_reason" varchar(500);--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "notes" varchar(1000) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_events" ADD CONSTRAINT "payment_events_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "integration_logs_system_idx" ON "integration_logs" USING btree ("system_name","created_at","id");--> statement-breakpoint
CREATE INDEX "payments_created_idx" ON "payments" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_provider_reference_key" ON "payments" USING btree ("provider","provider_reference");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_one_pending_key" ON "payments" USING btree ("appointment_id") WHERE "payments"."status" = 'pending';--> statement-breakpoint
ALTER TABLE "doctor_profiles" ADD CONSTRAINT "doctor_profiles_consultation_fee_check" CHECK ("doctor_profiles"."consultation_fee" between 0 and 100000000000);--> statement-breakpoint
ALTER TABLE "doctor_profiles" ADD CONSTRAINT "doctor_profiles_currency_check" CHECK ("doctor_profiles"."currency" ~ '^[A-Z]{3}$');--> statement-breakpoint
ALTER TABLE "integration_logs" ADD CONSTRAINT "integration_logs_latency_check" CHECK ("integration_logs"."latency_ms" is null or "integration_logs"."latency_ms" >= 0);--> statement-breakpoint
ALTER TABLE "integration_logs" ADD CONSTRAINT "integration_logs_attempt_check" CHECK ("integration_logs"."attempt" between 1 and 100);--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_refunded_amount_check" CHECK ("payments"."refunded_amount" between 0 and "payments"."amount");--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_provider_check" CHECK ("payments"."provider" in ('stripe', 'mpesa', 'sandbox'));--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_payment_method_check" CHECK ("payments"."payment_method" in ('card', 'mpesa'));--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_refund_state_check" CHECK (("payments"."status" = 'refunded') = ("payments"."refunded_amount" = "payments"."amount") and ("payments"."refunded_amount" = 0 or "payments"."status" in ('completed', 'refunded')));--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_reference_check" CHECK ("payments"."status" = 'pending' or "payments"."provider_reference" is not null);--> statement-breakpoint
-- A payment is a record of money: never deleted, its amount, currency, payer, appointment and
-- provider never changed, its status moved only forward (pending → completed | failed,
-- completed → refunded), its refunds only ever added to.
CREATE OR REPLACE FUNCTION payments_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'payments are never deleted' USING ERRCODE = '23514', CONSTRAINT = 'payments_immutable';
  END IF;
  IF NEW.amount <> OLD.amount OR NEW.currency <> OLD.currency OR NEW.patient_id <> OLD.patient_id
    OR NEW.appointment_id <> OLD.appointment_id OR NEW.provider <> OLD.provider
    OR NEW.payment_method <> OLD.payment_method OR NEW.created_at <> OLD.created_at
    OR (OLD.provider_reference IS NOT NULL AND NEW.provider_reference IS DISTINCT FROM OLD.provider_reference)
    OR NEW.refunded_amount < OLD.refunded_amount THEN
    RAISE EXCEPTION 'a payment''s money fields cannot change' USING ERRCODE = '23514', CONSTRAINT = 'payments_immutable';
  END IF;
  IF NEW.status <> OLD.status AND NOT (
    (OLD.status = 'pending' AND NEW.status IN ('completed', 'failed'))
    OR (OLD.status = 'completed' AND NEW.status = 'refunded')
  ) THEN
    RAISE EXCEPTION 'payment status cannot move from % to %', OLD.status, NEW.status
      USING ERRCODE = '23514', CONSTRAINT = 'payments_status_transition';
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER payments_guard BEFORE UPDATE OR DELETE ON payments FOR EACH ROW EXECUTE FUNCTION payments_guard();
