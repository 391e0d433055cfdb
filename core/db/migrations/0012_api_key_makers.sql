ALTER TABLE "api_keys" ADD COLUMN "created_by" text DEFAULT 'UNKNOWN' NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "created_by_key_id" uuid;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "created_by_member_id" uuid;--> statement-breakpoint
CREATE INDEX "api_keys_created_by_key" ON "api_keys" USING btree ("created_by_key_id");--> statement-breakpoint
CREATE INDEX "api_keys_created_by_member" ON "api_keys" USING btree ("created_by_member_id");--> statement-breakpoint
-- Keys made before makers were recorded: the CLI and scripts never give an idempotency key, the API always does.
UPDATE "api_keys" SET "created_by" = 'OPERATOR' WHERE "idempotency_key" IS NULL;
