import type { EditionListing } from "../../core/editions/index.ts";
import { IIIF_PRESENTATION_3_CONTEXT } from "./iiif-manifest.ts";

/**
 * An institution's editions as a IIIF Presentation 3 Collection: one Manifest reference per edition, in creation
 * order, so a museum viewer opens the whole collection from one address. `label` is the museum the issuer registry
 * names for the contract (or the contract's own name when it names none), `summary` says which.
 */
export function buildIiifCollection(opts: {
  collectionUrl: string;
  label: string;
  summary: string;
  manifestUrl: (editionId: bigint) => string;
  editions: EditionListing[];
}): Record<string, unknown> {
  return {
    "@context": IIIF_PRESENTATION_3_CONTEXT,
    id: opts.collectionUrl,
    type: "Collection",
    label: { none: [opts.label] },
    summary: { en: [opts.summary] },
    items: opts.editions.map((e) => ({ id: opts.manifestUrl(e.editionId), type: "Manifest", label: { none: [e.name] } })),
  };
}
