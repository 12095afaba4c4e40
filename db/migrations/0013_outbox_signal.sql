-- Every instance's relay listens on 'outbox'. A statement that queues events notifies it; Postgres
-- sends the notification when the transaction commits (never on rollback) and folds identical ones
-- of one transaction into one. Written here, the signal costs a write no round trip of its own.
CREATE FUNCTION outbox_signal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER outbox_signal AFTER INSERT ON "outbox"
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_signal();
