CREATE TABLE "institution_quotas" (
	"institution_id" uuid PRIMARY KEY NOT NULL,
	"issuances_per_month" integer,
	"max_batch_size" integer,
	"storage_bytes" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "members" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"address" text,
	"email" text,
	"role" text NOT NULL,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "members_identity" CHECK ((address IS NULL) <> (email IS NULL))
);
--> statement-breakpoint
CREATE TABLE "operator_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "operator_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "quota_usage" (
	"institution_id" uuid NOT NULL,
	"metric" text NOT NULL,
	"period" text NOT NULL,
	"used" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registry_operations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"institution_id" uuid NOT NULL,
	"collection_id" uuid,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"chain_tx_id" uuid,
	"tx_hash" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "registry_operations_idempotency_key_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "member_id" uuid;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "institutions" ADD COLUMN "status" text DEFAULT 'ACTIVE' NOT NULL;--> statement-breakpoint
ALTER TABLE "institutions" ADD COLUMN "identity" text;--> statement-breakpoint
ALTER TABLE "institutions" ADD COLUMN "chain_institution_id" text;--> statement-breakpoint
ALTER TABLE "institutions" ADD COLUMN "suspended_reason" text;--> statement-breakpoint
ALTER TABLE "institutions" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "institution_quotas" ADD CONSTRAINT "institution_quotas_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quota_usage" ADD CONSTRAINT "quota_usage_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registry_operations" ADD CONSTRAINT "registry_operations_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registry_operations" ADD CONSTRAINT "registry_operations_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "members_address" ON "members" USING btree ("institution_id","address");--> statement-breakpoint
CREATE UNIQUE INDEX "members_email" ON "members" USING btree ("institution_id","email");--> statement-breakpoint
CREATE UNIQUE INDEX "members_idempotency" ON "members" USING btree ("institution_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "members_owners" ON "members" USING btree ("institution_id") WHERE role = 'OWNER';--> statement-breakpoint
CREATE UNIQUE INDEX "quota_usage_key" ON "quota_usage" USING btree ("institution_id","metric","period");--> statement-breakpoint
CREATE INDEX "registry_operations_status" ON "registry_operations" USING btree ("status");--> statement-breakpoint
CREATE INDEX "registry_operations_institution" ON "registry_operations" USING btree ("institution_id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_idempotency" ON "api_keys" USING btree ("institution_id","idempotency_key");--> statement-breakpoint
ALTER TABLE "institutions" ADD CONSTRAINT "institutions_idempotency_key_unique" UNIQUE("idempotency_key");