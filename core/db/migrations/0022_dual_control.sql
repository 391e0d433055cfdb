CREATE TABLE "approval_policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"collection_id" uuid,
	"rules" jsonb NOT NULL,
	"ttl_seconds" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "approval_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"collection_id" uuid,
	"action" text NOT NULL,
	"subject_kind" text NOT NULL,
	"subject_id" uuid,
	"requested_by_member_id" uuid,
	"requested_by_key_id" uuid,
	"request_hash" text NOT NULL,
	"required" integer NOT NULL,
	"approver_roles" text[] NOT NULL,
	"status" text DEFAULT 'AWAITING_APPROVAL' NOT NULL,
	"release" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"payload" jsonb,
	"approvals_hash" text,
	"rejection_reason" text,
	"expires_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"request_id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"key_id" uuid NOT NULL,
	"decision" text NOT NULL,
	"reason" text,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_anchors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"first_seq" bigint NOT NULL,
	"last_seq" bigint NOT NULL,
	"root" text NOT NULL,
	"contract_address" text,
	"block_number" bigint,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"chain_tx_id" uuid,
	"tx_hash" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"institution_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"kind" text NOT NULL,
	"actor_member_id" uuid,
	"actor_key_id" text,
	"actor" text NOT NULL,
	"subject_kind" text,
	"subject_id" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_hash" text,
	"at" timestamp with time zone NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	"anchor_id" uuid,
	"leaf_index" integer
);
--> statement-breakpoint
CREATE TABLE "audit_heads" (
	"institution_id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
DROP INDEX "certificate_operations_active";--> statement-breakpoint
DROP INDEX "revocations_active";--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "pending_approval_id" uuid;--> statement-breakpoint
ALTER TABLE "revocations" ADD COLUMN "approvals_hash" text;--> statement-breakpoint
ALTER TABLE "approval_policies" ADD CONSTRAINT "approval_policies_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_policies" ADD CONSTRAINT "approval_policies_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_request_id_approval_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."approval_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_anchors" ADD CONSTRAINT "audit_anchors_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_heads" ADD CONSTRAINT "audit_heads_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "approval_policies_collection" ON "approval_policies" USING btree ("institution_id","collection_id") WHERE collection_id is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "approval_policies_default" ON "approval_policies" USING btree ("institution_id") WHERE collection_id is null;--> statement-breakpoint
CREATE INDEX "approval_requests_waiting" ON "approval_requests" USING btree ("institution_id","created_at") WHERE status = 'AWAITING_APPROVAL';--> statement-breakpoint
CREATE INDEX "approval_requests_expiry" ON "approval_requests" USING btree ("expires_at") WHERE status = 'AWAITING_APPROVAL';--> statement-breakpoint
CREATE INDEX "approval_requests_subject" ON "approval_requests" USING btree ("subject_id");--> statement-breakpoint
CREATE UNIQUE INDEX "approvals_once" ON "approvals" USING btree ("request_id","member_id");--> statement-breakpoint
CREATE INDEX "audit_anchors_status" ON "audit_anchors" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_anchors_range" ON "audit_anchors" USING btree ("institution_id","first_seq") WHERE status <> 'FAILED';--> statement-breakpoint
CREATE UNIQUE INDEX "audit_events_chain" ON "audit_events" USING btree ("institution_id","seq");--> statement-breakpoint
CREATE INDEX "audit_events_unanchored" ON "audit_events" USING btree ("institution_id","seq") WHERE anchor_id is null;--> statement-breakpoint
CREATE INDEX "audit_events_at" ON "audit_events" USING btree ("institution_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "certificate_operations_active" ON "certificate_operations" USING btree ("certificate_id") WHERE status in ('AWAITING_APPROVAL', 'QUEUED', 'PINNED', 'SUBMITTED');--> statement-breakpoint
CREATE UNIQUE INDEX "revocations_active" ON "revocations" USING btree ("certificate_id") WHERE status not in ('FAILED', 'REJECTED', 'EXPIRED');