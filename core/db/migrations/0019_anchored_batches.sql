CREATE TABLE "anchored_batches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"collection_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"root" text NOT NULL,
	"size" integer NOT NULL,
	"block_number" bigint,
	"revoked_at" timestamp with time zone,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"chain_tx_id" uuid,
	"tx_hash" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "anchored_certificates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"batch_id" uuid NOT NULL,
	"institution_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"document_id" text NOT NULL,
	"digest" text NOT NULL,
	"recipient" text NOT NULL,
	"document" jsonb NOT NULL,
	"proof" jsonb NOT NULL,
	"status" text DEFAULT 'VALID' NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "anchored_revocations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"batch_id" uuid NOT NULL,
	"certificate_id" uuid,
	"target" text NOT NULL,
	"reason" text NOT NULL,
	"requested_by" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"chain_tx_id" uuid,
	"tx_hash" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "anchored_batches" ADD CONSTRAINT "anchored_batches_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "anchored_batches" ADD CONSTRAINT "anchored_batches_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "anchored_certificates" ADD CONSTRAINT "anchored_certificates_batch_id_anchored_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."anchored_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "anchored_certificates" ADD CONSTRAINT "anchored_certificates_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "anchored_revocations" ADD CONSTRAINT "anchored_revocations_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "anchored_revocations" ADD CONSTRAINT "anchored_revocations_batch_id_anchored_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."anchored_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "anchored_revocations" ADD CONSTRAINT "anchored_revocations_certificate_id_anchored_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."anchored_certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "anchored_batches_idempotency" ON "anchored_batches" USING btree ("institution_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "anchored_batches_root" ON "anchored_batches" USING btree ("collection_id","root");--> statement-breakpoint
CREATE INDEX "anchored_batches_status" ON "anchored_batches" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "anchored_certificates_position" ON "anchored_certificates" USING btree ("batch_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "anchored_certificates_document" ON "anchored_certificates" USING btree ("institution_id","document_id");--> statement-breakpoint
CREATE INDEX "anchored_certificates_digest" ON "anchored_certificates" USING btree ("digest");--> statement-breakpoint
CREATE UNIQUE INDEX "anchored_revocations_idempotency" ON "anchored_revocations" USING btree ("institution_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "anchored_revocations_active" ON "anchored_revocations" USING btree ("batch_id","target") WHERE status <> 'FAILED';--> statement-breakpoint
CREATE INDEX "anchored_revocations_batch" ON "anchored_revocations" USING btree ("batch_id");