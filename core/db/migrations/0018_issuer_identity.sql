CREATE TABLE "domain_proofs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"domain" text NOT NULL,
	"method" text NOT NULL,
	"chain_id" integer NOT NULL,
	"issuer_registry" text NOT NULL,
	"chain_institution_id" text NOT NULL,
	"proven" boolean NOT NULL,
	"record" text,
	"reason" text NOT NULL,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "issuer_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"public_key_multibase" text NOT NULL,
	"secret_key_multibase" text NOT NULL,
	"status" text DEFAULT 'CURRENT' NOT NULL,
	"retired_at" timestamp with time zone,
	"compromised_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "issuer_keys_public_key_multibase_unique" UNIQUE("public_key_multibase")
);
--> statement-breakpoint
ALTER TABLE "domain_proofs" ADD CONSTRAINT "domain_proofs_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issuer_keys" ADD CONSTRAINT "issuer_keys_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "domain_proofs_institution" ON "domain_proofs" USING btree ("institution_id","checked_at");--> statement-breakpoint
CREATE UNIQUE INDEX "issuer_keys_one_current" ON "issuer_keys" USING btree ("institution_id") WHERE "issuer_keys"."status" = 'CURRENT';