ALTER TABLE "audit_logs" ADD COLUMN "patient_ids" integer[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "chain_seq" bigint;--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "prev_hash" char(64);--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "row_hash" char(64);--> statement-breakpoint
CREATE UNIQUE INDEX "audit_logs_chain_seq_key" ON "audit_logs" USING btree ("chain_seq");--> statement-breakpoint
CREATE INDEX "audit_logs_patient_ids_idx" ON "audit_logs" USING gin ("patient_ids");--> statement-breakpoint
CREATE INDEX "audit_logs_action_idx" ON "audit_logs" USING btree ("action","id");
