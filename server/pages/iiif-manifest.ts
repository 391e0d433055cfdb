import type { EditionGallery } from "../../core/editions/index.ts";
import { LINKED_ART_CONTEXT } from "../../core/editions/linked-art.ts";
import { DUBLIN_CORE_FIELDS, type DublinCoreField } from "../../core/editions/metadata.ts";

/** IIIF Presentation API 3.0: https://iiif.io/api/presentation/3.0/ */
export const IIIF_PRESENTATION_3_CONTEXT = "http://iiif.io/api/presentation/3/context.json";
/** The content type the specification asks manifests to be served with. */
export const IIIF_MANIFEST_CONTENT_TYPE = `application/ld+json;profile="${IIIF_PRESENTATION_3_CONTEXT}"`;

export type LanguageMap = Record<string, string[]>;
export interface LabelValue {
  label: LanguageMap;
  value: LanguageMap;
}

/** Labels Hallmark writes are English; values are in the object's own language when its record names one. */
export const DUBLIN_CORE_LABELS: Record<DublinCoreField, string> = {
  title: "Title",
  creator: "Creator",
  date: "Date",
  subject: "Subject",
  description: "Description",
  rights: "Rights",
  identifier: "Identifier",
  type: "Type",
  format: "Format",
  source: "Source",
  language: "Language",
  coverage: "Coverage",
};

/** Rights URIs IIIF clients recognise in `rights` (Creative Commons, RightsStatements.org). */
const RIGHTS_URI = /^https?:\/\/(creativecommons\.org\/(licenses|publicdomain)\/|rightsstatements\.org\/vocab\/)\S+$/;

/** The language of the object's values: its record's first `language` when that is a BCP 47 tag, else `none`. */
export function valueLanguage(gallery: EditionGallery): string {
  const tag = gallery.metadata.dublinCore.language?.[0];
  return tag && /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(tag) ? tag : "none";
}

/**
 * The edition as a IIIF Presentation 3 Manifest: one Canvas per image, sized as the image, painted by one Annotation
 * whose body is the image served from this platform's IPFS gateway. `base` is the public base URL (no trailing slash);
 * every id is absolute, and the manifest's own id is the URL it is served at.
 */
export function buildIiifManifest(
  gallery: EditionGallery,
  opts: { base: string; manifestUrl: string; galleryUrl: string; collectionUrl?: string; linkedArtUrl?: string; museum?: { name: string; homepage?: string } },
): Record<string, unknown> {
  const { metadata, edition } = gallery;
  const lang = valueLanguage(gallery);
  const dc = metadata.dublinCore;
  const en = (text: string): LanguageMap => ({ en: [text] });
  const values = (list: string[]): LanguageMap => ({ [lang]: list });
  const canvasBase = opts.manifestUrl.replace(/\/manifest\.json$/, "");

  const entries: LabelValue[] = DUBLIN_CORE_FIELDS.filter((f) => f !== "rights" && dc[f]?.length).map((f) => ({
    label: en(DUBLIN_CORE_LABELS[f]),
    value: values(dc[f]!),
  }));
  entries.push(
    { label: en("Edition size"), value: { none: [String(edition.maxSupply)] } },
    { label: en("Contract"), value: { none: [edition.contract] } },
    { label: en("Edition id"), value: { none: [edition.editionId.toString()] } },
  );
  const rightsUri = dc.rights?.find((r) => RIGHTS_URI.test(r));

  const manifest: Record<string, unknown> = {
    "@context": IIIF_PRESENTATION_3_CONTEXT,
    id: opts.manifestUrl,
    type: "Manifest",
    label: values([metadata.name]),
    ...(metadata.description ? { summary: values([metadata.description]) } : {}),
    metadata: entries,
    ...(dc.rights?.length ? { requiredStatement: { label: en("Rights"), value: values(dc.rights) } } : {}),
    ...(rightsUri ? { rights: rightsUri } : {}),
    thumbnail: gallery.images.slice(0, 1).map((img) => imageResource(opts.base, img)),
    homepage: [{ id: opts.galleryUrl, type: "Text", label: en(`${metadata.name}: gallery`), format: "text/html", language: ["en"] }],
    seeAlso: [
      { id: `${opts.base}/ipfs/${gallery.metadataCid}`, type: "Dataset", label: en("Edition metadata (JSON)"), format: "application/json", profile: metadata.$schema },
      ...(opts.linkedArtUrl ? [{ id: opts.linkedArtUrl, type: "Dataset", label: en("Linked Art description (JSON-LD)"), format: "application/ld+json", profile: LINKED_ART_CONTEXT }] : []),
    ],
    // The institution the issuer registry names, and nothing when it names none: a viewer shows `provider` as the source.
    ...(opts.museum
      ? { provider: [{ id: `${opts.galleryUrl}#issuer`, type: "Agent", label: { none: [opts.museum.name] }, ...(opts.museum.homepage ? { homepage: [{ id: opts.museum.homepage, type: "Text", label: { none: [opts.museum.name] }, format: "text/html" }] } : {}) }] }
      : {}),
    ...(opts.collectionUrl ? { partOf: [{ id: opts.collectionUrl, type: "Collection" }] } : {}),
    items: gallery.images.map((img, i) => {
      const canvasId = `${canvasBase}/canvas/${i + 1}`;
      return {
        id: canvasId,
        type: "Canvas",
        label: values([img.label]),
        width: img.width,
        height: img.height,
        items: [
          {
            id: `${canvasId}/page`,
            type: "AnnotationPage",
            items: [
              {
                id: `${canvasId}/page/painting`,
                type: "Annotation",
                motivation: "painting",
                body: imageResource(opts.base, img),
                target: canvasId,
              },
            ],
          },
        ],
      };
    }),
  };
  return manifest;
}

function imageResource(base: string, img: { cid: string; mediaType: string; width: number; height: number }) {
  return { id: `${base}/ipfs/${img.cid}`, type: "Image", format: img.mediaType, width: img.width, height: img.height };
}
