ALTER TABLE "audit_logs" DROP CONSTRAINT "audit_logs_action_check";--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "appended" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_action_check" CHECK ((not appended and action in ('read', 'list', 'create', 'update', 'delete', 'download', 'export', 'login', 'login_failed', 'logout', 'token_refresh', 'token_reuse', 'password_reset', 'permission_change', 'access_denied')) or (appended and action ~ '^[a-z][a-z0-9_]{0,31}$' and action not in ('read', 'list', 'create', 'update', 'delete', 'download', 'export', 'login', 'login_failed', 'logout', 'token_refresh', 'token_reuse', 'password_reset', 'permission_change', 'access_denied')));--> statement-breakpoint
-- The digest covers the flag too (only when set, so rows written before keep their hashes).
CREATE OR REPLACE FUNCTION audit_log_digest(r audit_logs) RETURNS char(64) LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(concat_ws(E'\x1f',
    r.chain_seq::text, coalesce(r.prev_hash, '\N'), r.id::text, coalesce(r.user_id::text, '\N'),
    coalesce(r.role, '\N'), r.action, coalesce(r.target_table, '\N'), coalesce(r.target_id, '\N'),
    coalesce(r.patient_id::text, '\N'), r.patient_ids::text, coalesce(r.ip_address, '\N'),
    coalesce(r.user_agent, '\N'), coalesce(r.request_id, '\N'), r.outcome,
    to_char(r.event_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), r.details::text,
    CASE WHEN r.appended THEN 'appended' END), 'UTF8')), 'hex')
$$;
