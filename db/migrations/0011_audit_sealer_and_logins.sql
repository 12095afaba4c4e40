CREATE TABLE "audit_chain_legacy" (
	"id" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"last_seq" bigint NOT NULL,
	CONSTRAINT "audit_chain_legacy_one_row_check" CHECK ("audit_chain_legacy"."id")
);
--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "client_request_id" varchar(100);--> statement-breakpoint
CREATE INDEX "audit_logs_unsealed_idx" ON "audit_logs" USING btree ("id") WHERE "audit_logs"."chain_seq" is null;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_username_not_email_check" CHECK (position('@' in "users"."username") = 0) NOT VALID;--> statement-breakpoint
-- (Hand-written from here.) NOT VALID above: an account registered earlier with an '@' in its
-- username keeps it (and signs in by e-mail); every new or renamed username is checked.
--
-- The audit chain is no longer extended by a trigger under an advisory lock on every insert: rows
-- are inserted with NULL chain columns and sealed in order by the app (services/audit_sealer.ts)
-- with an HMAC whose key lives outside the database. Rows chained before this migration keep
-- their unkeyed SHA-256 links; the last of them is recorded here and verified by the old digest.
DROP TRIGGER audit_logs_hash_chain ON audit_logs;
--> statement-breakpoint
DROP FUNCTION audit_logs_chain();
--> statement-breakpoint
DROP FUNCTION audit_log_digest(audit_logs);
--> statement-breakpoint
INSERT INTO audit_chain_legacy (id, last_seq) SELECT true, coalesce(max(chain_seq), 0) FROM audit_logs;
--> statement-breakpoint
-- Append-only, with one exception: the sealer sets the three chain columns of an unsealed row,
-- once, changing nothing else.
CREATE OR REPLACE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.row_hash IS NULL
       AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.row_hash IS NOT NULL
       AND to_jsonb(NEW) - ARRAY['chain_seq', 'prev_hash', 'row_hash'] = to_jsonb(OLD) - ARRAY['chain_seq', 'prev_hash', 'row_hash']
    THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE FUNCTION audit_chain_legacy_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_chain_legacy is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_chain_legacy_frozen BEFORE UPDATE OR DELETE ON audit_chain_legacy
  FOR EACH ROW EXECUTE FUNCTION audit_chain_legacy_frozen();
--> statement-breakpoint
CREATE TRIGGER audit_chain_legacy_no_truncate BEFORE TRUNCATE ON audit_chain_legacy
  FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_legacy_frozen();
