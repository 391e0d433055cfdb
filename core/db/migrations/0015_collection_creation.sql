ALTER TABLE "collections" ALTER COLUMN "contract_address" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "collections" ALTER COLUMN "deploy_block" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "status" text DEFAULT 'CONFIRMED' NOT NULL;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "chain_tx_id" uuid;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "tx_hash" text;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "error" text;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "request_hash" text;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "collections_idempotency" ON "collections" USING btree ("institution_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "collections_status" ON "collections" USING btree ("status");--> statement-breakpoint
ALTER TABLE "collections" ADD CONSTRAINT "collections_confirmed_deployed" CHECK (status <> 'CONFIRMED' OR (contract_address IS NOT NULL AND deploy_block IS NOT NULL));