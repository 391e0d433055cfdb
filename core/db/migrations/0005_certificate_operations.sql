CREATE TABLE "certificate_operations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"institution_id" uuid NOT NULL,
	"certificate_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"reason" text,
	"new_holder" text,
	"fields" jsonb,
	"new_issuance_id" uuid,
	"request_id" text,
	"metadata_cid" text,
	"digest" text,
	"result_certificate_id" uuid,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"chain_tx_id" uuid,
	"tx_hash" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "certificate_operations_request_id_unique" UNIQUE("request_id")
);
--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "replaces_id" uuid;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "superseded_by_id" uuid;--> statement-breakpoint
ALTER TABLE "certificate_operations" ADD CONSTRAINT "certificate_operations_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificate_operations" ADD CONSTRAINT "certificate_operations_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "certificate_operations_idempotency" ON "certificate_operations" USING btree ("institution_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "certificate_operations_active" ON "certificate_operations" USING btree ("certificate_id") WHERE status in ('QUEUED', 'PINNED', 'SUBMITTED');--> statement-breakpoint
CREATE INDEX "certificate_operations_certificate" ON "certificate_operations" USING btree ("certificate_id");--> statement-breakpoint
CREATE INDEX "certificate_operations_status" ON "certificate_operations" USING btree ("status");