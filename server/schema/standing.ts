import { createContextCache, type ObjectRef } from "@pothos/core";
import DataLoader from "dataloader";
import { recentRate, standings, type StandingKind, type Queued, type Standing } from "../../core/operations/standing.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { CertificateOperationRef } from "./certificate-operations.ts";
import { EditionOperationRef, EditionRef } from "./edition.ts";
import { IssuanceRef } from "./issuance.ts";
import { RegistryOperationRef } from "./operator.ts";
import { RevocationRef } from "./revocation.ts";
import { AnchoredBatchRef, AnchoredRevocationRef } from "./anchored.ts";

/**
 * Where operations stand, per request and kind: the recent pace read once, and every operation of a response
 * placed in the queue by one query, whatever their number.
 */
const standingLoaders = createContextCache((ctx: Context) => {
  const made = new Map<StandingKind, DataLoader<Queued, Standing, string>>();
  return (kind: StandingKind) => {
    let loader = made.get(kind);
    if (!loader) {
      let rate: Promise<number> | undefined;
      loader = new DataLoader<Queued, Standing, string>(
        async (ops) => standings(ctx.db, kind, ops, await (rate ??= recentRate(ctx.db, kind))),
        { cacheKeyFn: (op) => op.id },
      );
      made.set(kind, loader);
    }
    return loader;
  };
});

/** Adds `queuePosition` and `estimatedConfirmationAt` to an operation type. */
// `any` schema types: every ref given comes from this one builder.
function standingFields<T extends Queued>(ref: ObjectRef<any, T>, kind: StandingKind, what: string): void {
  builder.objectFields(ref, (t) => ({
    queuePosition: t.int({
      nullable: true,
      description: `${what} accepted before this one and not yet sent to the chain (0 once sent); null once it has ended.`,
      resolve: async (op, _args, ctx) => (await standingLoaders(ctx)(kind).load(op)).position,
    }),
    estimatedConfirmationAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it should be CONFIRMED at the pace of the last minute (a usual pace after a quiet one); null once it has ended.",
      resolve: async (op, _args, ctx) => (await standingLoaders(ctx)(kind).load(op)).estimatedConfirmationAt,
    }),
  }));
}

/** Every kind that waits its turn for the chain (core/operations/kinds.ts), with its GraphQL type: one missing does not compile. */
const STANDING_TYPES = {
  issuance: [IssuanceRef, "Issuances"],
  revocation: [RevocationRef, "Revocations"],
  certificateOperation: [CertificateOperationRef, "Certificate operations"],
  edition: [EditionRef, "Editions"],
  editionOperation: [EditionOperationRef, "Airdrops and claims"],
  registryOperation: [RegistryOperationRef, "Registry operations"],
  anchoredBatch: [AnchoredBatchRef, "Anchored batches"],
  anchoredRevocation: [AnchoredRevocationRef, "Anchored revocations"],
} satisfies Record<StandingKind, [ObjectRef<any, any>, string]>;

for (const [kind, [ref, what]] of Object.entries(STANDING_TYPES)) standingFields(ref as ObjectRef<any, Queued>, kind as StandingKind, what);
