CREATE TABLE "anchored_status_list_indices" (
	"certificate_id" uuid PRIMARY KEY NOT NULL,
	"collection_id" uuid NOT NULL,
	"status_list_index" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "anchored_status_list_indices_non_negative" CHECK (status_list_index >= 0)
);
--> statement-breakpoint
ALTER TABLE "anchored_status_list_indices" ADD CONSTRAINT "anchored_status_list_indices_certificate_id_anchored_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."anchored_certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "anchored_status_list_indices" ADD CONSTRAINT "anchored_status_list_indices_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "anchored_status_list_indices_position" ON "anchored_status_list_indices" USING btree ("collection_id","status_list_index");--> statement-breakpoint
CREATE INDEX "anchored_certificates_revoked" ON "anchored_certificates" USING btree ("batch_id") WHERE status <> 'VALID';