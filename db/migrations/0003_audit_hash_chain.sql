-- Hash chain over the audit trail: each row stores the previous row's hash and its own, so an
-- edit made behind the API's back (trigger disabled by the owner) is found by verification.
CREATE FUNCTION audit_log_digest(r audit_logs) RETURNS char(64) LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(concat_ws(E'\x1f',
    r.chain_seq::text, coalesce(r.prev_hash, '\N'), r.id::text, coalesce(r.user_id::text, '\N'),
    coalesce(r.role, '\N'), r.action, coalesce(r.target_table, '\N'), coalesce(r.target_id, '\N'),
    coalesce(r.patient_id::text, '\N'), r.patient_ids::text, coalesce(r.ip_address, '\N'),
    coalesce(r.user_agent, '\N'), coalesce(r.request_id, '\N'), r.outcome,
    to_char(r.event_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), r.details::text), 'UTF8')), 'hex')
$$;
--> statement-breakpoint
CREATE FUNCTION audit_logs_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last record;
BEGIN
  -- One writer at a time extends the chain; the lock is held until the transaction ends.
  PERFORM pg_advisory_xact_lock(7274846001);
  SELECT chain_seq, row_hash INTO last FROM audit_logs WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1;
  NEW.chain_seq := coalesce(last.chain_seq, 0) + 1;
  NEW.prev_hash := coalesce(last.row_hash, repeat('0', 64));
  NEW.row_hash := audit_log_digest(NEW);
  RETURN NEW;
END;
$$;
--> statement-breakpoint
-- Rows written before this migration join the chain in id order.
ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_or_delete;
--> statement-breakpoint
DO $$
DECLARE
  r audit_logs;
  seq bigint := 0;
  prev char(64) := repeat('0', 64);
BEGIN
  FOR r IN SELECT * FROM audit_logs ORDER BY id LOOP
    seq := seq + 1;
    r.chain_seq := seq;
    r.prev_hash := prev;
    r.row_hash := audit_log_digest(r);
    UPDATE audit_logs SET chain_seq = r.chain_seq, prev_hash = r.prev_hash, row_hash = r.row_hash WHERE id = r.id;
    prev := r.row_hash;
  END LOOP;
END;
$$;
--> statement-breakpoint
ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_or_delete;
--> statement-breakpoint
CREATE TRIGGER audit_logs_hash_chain BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION audit_logs_chain();
