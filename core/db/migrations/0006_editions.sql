CREATE TABLE "claim_codes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"edition_id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"voucher_code" text NOT NULL,
	"request_key" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"redeemed_at" timestamp with time zone,
	"redeemed_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "claim_codes_code_hash_unique" UNIQUE("code_hash"),
	CONSTRAINT "claim_codes_voucher_code_unique" UNIQUE("voucher_code")
);
--> statement-breakpoint
CREATE TABLE "edition_contracts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"chain_id" integer NOT NULL,
	"contract_address" text NOT NULL,
	"name" text NOT NULL,
	"deploy_tx_hash" text,
	"deploy_block" bigint NOT NULL,
	"voucher_signer_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "edition_contracts_institution_id_unique" UNIQUE("institution_id")
);
--> statement-breakpoint
CREATE TABLE "edition_mint_batches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"operation_id" uuid NOT NULL,
	"start" integer NOT NULL,
	"count" integer NOT NULL,
	"status" text DEFAULT 'SUBMITTED' NOT NULL,
	"chain_tx_id" uuid NOT NULL,
	"tx_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "edition_operations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"edition_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"holders" jsonb NOT NULL,
	"total" integer NOT NULL,
	"sent" integer DEFAULT 0 NOT NULL,
	"minted" integer DEFAULT 0 NOT NULL,
	"claim_code_id" uuid,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "editions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"name" text NOT NULL,
	"metadata_json" text NOT NULL,
	"metadata_cid" text,
	"max_supply" integer NOT NULL,
	"transfer_policy" text NOT NULL,
	"lockup_seconds" integer DEFAULT 0 NOT NULL,
	"max_gifts" integer DEFAULT 0 NOT NULL,
	"reserved" integer DEFAULT 0 NOT NULL,
	"minted" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"contract_id" uuid,
	"chain_edition_id" text,
	"chain_tx_id" uuid,
	"tx_hash" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "media" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"cid" text NOT NULL,
	"size" bigint NOT NULL,
	"media_type" text NOT NULL,
	"width" integer,
	"height" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "claim_codes" ADD CONSTRAINT "claim_codes_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claim_codes" ADD CONSTRAINT "claim_codes_edition_id_editions_id_fk" FOREIGN KEY ("edition_id") REFERENCES "public"."editions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "edition_contracts" ADD CONSTRAINT "edition_contracts_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "edition_mint_batches" ADD CONSTRAINT "edition_mint_batches_operation_id_edition_operations_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."edition_operations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "edition_operations" ADD CONSTRAINT "edition_operations_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "edition_operations" ADD CONSTRAINT "edition_operations_edition_id_editions_id_fk" FOREIGN KEY ("edition_id") REFERENCES "public"."editions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "editions" ADD CONSTRAINT "editions_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "editions" ADD CONSTRAINT "editions_contract_id_edition_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."edition_contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "media" ADD CONSTRAINT "media_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "claim_codes_request" ON "claim_codes" USING btree ("institution_id","request_key");--> statement-breakpoint
CREATE INDEX "edition_mint_batches_tx" ON "edition_mint_batches" USING btree ("tx_hash");--> statement-breakpoint
CREATE INDEX "edition_mint_batches_operation" ON "edition_mint_batches" USING btree ("operation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "edition_operations_idempotency" ON "edition_operations" USING btree ("institution_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "edition_operations_status" ON "edition_operations" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "editions_idempotency" ON "editions" USING btree ("institution_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "editions_status" ON "editions" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "media_institution_cid" ON "media" USING btree ("institution_id","cid");