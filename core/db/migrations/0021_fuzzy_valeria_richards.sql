CREATE TABLE "credential_offers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"certificate_id" uuid NOT NULL,
	"pre_authorized_code_hash" text NOT NULL,
	"tx_code_hash" text,
	"offered_by" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"tx_code_attempts" integer DEFAULT 0 NOT NULL,
	"redeemed_at" timestamp with time zone,
	"access_token_hash" text,
	"access_token_expires_at" timestamp with time zone,
	"issued_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credential_offers_pre_authorized_code_hash_unique" UNIQUE("pre_authorized_code_hash"),
	CONSTRAINT "credential_offers_access_token_hash_unique" UNIQUE("access_token_hash")
);
--> statement-breakpoint
CREATE TABLE "holder_email_codes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"holder_key" text NOT NULL,
	"code_hash" text NOT NULL,
	"client_hash" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "holder_sessions" ALTER COLUMN "address" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "custodial_holders" ADD COLUMN "holder_key" text;--> statement-breakpoint
ALTER TABLE "holder_sessions" ADD COLUMN "holder_key" text;--> statement-breakpoint
ALTER TABLE "holder_sessions" ADD COLUMN "email_sealed" text;--> statement-breakpoint
ALTER TABLE "credential_offers" ADD CONSTRAINT "credential_offers_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "holder_email_codes_holder" ON "holder_email_codes" USING btree ("holder_key","created_at");--> statement-breakpoint
CREATE INDEX "holder_email_codes_client" ON "holder_email_codes" USING btree ("client_hash","created_at");--> statement-breakpoint
CREATE INDEX "custodial_holders_holder_key" ON "custodial_holders" USING btree ("holder_key");