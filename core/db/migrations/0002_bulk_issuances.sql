CREATE TABLE "bulk_issuances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"collection_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"total" integer NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "issuances" ADD COLUMN "bulk_id" uuid;--> statement-breakpoint
ALTER TABLE "bulk_issuances" ADD CONSTRAINT "bulk_issuances_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bulk_issuances" ADD CONSTRAINT "bulk_issuances_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bulk_issuances_idempotency" ON "bulk_issuances" USING btree ("institution_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "issuances_bulk" ON "issuances" USING btree ("bulk_id");