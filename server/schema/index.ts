import { builder } from "../builder.ts";
import "./scalars.ts";
import "./enums.ts";
import "./errors.ts";
import "./institution.ts";
import "./collections.ts";
import "./certificate.ts";
import "./issuance.ts";
import "./revocation.ts";
import "./certificate-operations.ts";
import "./bulk-issuance.ts";
import "./webhook.ts";
import "./verification.ts";
import "./subscriptions.ts";
import "./access.ts";
import "./operator.ts";
import "./quotas.ts";
import "./holder.ts";
import "./edition.ts";
import "./collectible.ts";
import "./custody.ts";
import "./template.ts";
import "./standing.ts";
import "./personal-data.ts";

builder.queryType({ description: "Reads. Every field needs an API key with the `read` scope unless it says otherwise." });
builder.mutationType({ description: "Operations. Each returns at once; follow the operation's `status`." });

export const schema = builder.toSchema({ sortSchema: true });
