CREATE TABLE "edition_contract_creations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"chain_id" integer NOT NULL,
	"name" text NOT NULL,
	"voucher_signer_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "edition_contract_creations_institution_id_unique" UNIQUE("institution_id")
);
--> statement-breakpoint
ALTER TABLE "edition_contract_creations" ADD CONSTRAINT "edition_contract_creations_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;