ALTER TABLE "chain_txs" ALTER COLUMN "to" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "signer_nonces" ADD COLUMN "cannot_pay_reason" text;--> statement-breakpoint
ALTER TABLE "signer_nonces" ADD COLUMN "funds_checked_at" timestamp with time zone;