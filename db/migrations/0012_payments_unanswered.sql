ALTER TABLE "payments" DROP CONSTRAINT "payments_reference_check";--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_reference_check" CHECK ("payments"."status" in ('pending', 'failed') or "payments"."provider_reference" is not null);--> statement-breakpoint
-- A payment whose request the provider never answered (an M-Pesa STK push that timed out) may be
-- given up as failed without a reference; if the provider's callback later says the money was
-- taken after all, it completes: failed → completed, only while no reference was ever recorded.
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
    OR (OLD.status = 'failed' AND NEW.status = 'completed' AND OLD.provider_reference IS NULL
      AND NEW.provider_reference IS NOT NULL)
  ) THEN
    RAISE EXCEPTION 'payment status cannot move from % to %', OLD.status, NEW.status
      USING ERRCODE = '23514', CONSTRAINT = 'payments_status_transition';
  END IF;
  RETURN NEW;
END
$$;
