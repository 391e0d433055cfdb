CREATE TABLE "personal_disclosures" (
	"issuance_id" uuid PRIMARY KEY NOT NULL,
	"institution_id" uuid NOT NULL,
	"disclosures" jsonb,
	"share_token" text,
	"erased_at" timestamp with time zone,
	"erased_by" text,
	"erased_reason" text,
	"erase_idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "public_holder_names" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "personal_disclosures" ADD CONSTRAINT "personal_disclosures_issuance_id_issuances_id_fk" FOREIGN KEY ("issuance_id") REFERENCES "public"."issuances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "personal_disclosures" ADD CONSTRAINT "personal_disclosures_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;