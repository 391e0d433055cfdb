CREATE TABLE "custodial_holders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"reference_hash" text NOT NULL,
	"custodial_address" text NOT NULL,
	"claimed_address" text,
	"claimed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "holder_claims" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"holder_id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"used_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "holder_claims_code_hash_unique" UNIQUE("code_hash")
);
--> statement-breakpoint
ALTER TABLE "custodial_holders" ADD CONSTRAINT "custodial_holders_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "holder_claims" ADD CONSTRAINT "holder_claims_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "holder_claims" ADD CONSTRAINT "holder_claims_holder_id_custodial_holders_id_fk" FOREIGN KEY ("holder_id") REFERENCES "public"."custodial_holders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "custodial_holders_reference" ON "custodial_holders" USING btree ("institution_id","reference_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "custodial_holders_address" ON "custodial_holders" USING btree ("custodial_address");--> statement-breakpoint
CREATE UNIQUE INDEX "holder_claims_idempotency" ON "holder_claims" USING btree ("institution_id","idempotency_key");