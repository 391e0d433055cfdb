import type { EditionGallery } from "../../core/editions/index.ts";
import { LINKED_ART_CONTEXT } from "../../core/editions/linked-art.ts";
import { languagesOf, type Localizable } from "../../core/i18n/language-map.ts";
import { LOCALES, matchLocale } from "../../core/i18n/locales.ts";
import { translator, type MessageKey } from "../../core/i18n/translator.ts";
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

/** English names of the Dublin Core elements (the catalogues hold them in every language, `gallery.dc.<element>`). */
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
  // Labels Hallmark writes come in every language it speaks, so a viewer shows its reader's.
  const labelled = (key: MessageKey, values?: Record<string, string>): LanguageMap => Object.fromEntries(LOCALES.map((l) => [l, [translator(l).t(key, values)]]));
  const values = (list: string[]): LanguageMap => ({ [lang]: list });
  // Content the museum wrote in several languages keeps its tags; a plain string is in the record's language.
  const content = (value: Localizable): LanguageMap =>
    typeof value === "string" ? values([value]) : Object.fromEntries(languagesOf(value).map(([tag, text]) => [tag!, [text]]));
  const canvasBase = opts.manifestUrl.replace(/\/manifest\.json$/, "");

  const entries: LabelValue[] = DUBLIN_CORE_FIELDS.filter((f) => f !== "rights" && dc[f]?.length).map((f) => ({
    label: labelled(`gallery.dc.${f}`),
    value: values(dc[f]!),
  }));
  entries.push(
    { label: labelled("gallery.size"), value: { none: [String(edition.maxSupply)] } },
    { label: labelled("gallery.contract"), value: { none: [edition.contract] } },
    { label: labelled("gallery.editionId"), value: { none: [edition.editionId.toString()] } },
  );
  const rightsUri = dc.rights?.find((r) => RIGHTS_URI.test(r));

  const manifest: Record<string, unknown> = {
    "@context": IIIF_PRESENTATION_3_CONTEXT,
    id: opts.manifestUrl,
    type: "Manifest",
    label: content(metadata.name),
    ...(metadata.description ? { summary: content(metadata.description) } : {}),
    metadata: entries,
    ...(dc.rights?.length ? { requiredStatement: { label: labelled("gallery.dc.rights"), value: values(dc.rights) } } : {}),
    ...(rightsUri ? { rights: rightsUri } : {}),
    thumbnail: gallery.images.slice(0, 1).map((img) => imageResource(opts.base, img)),
    // The gallery page speaks each of these languages (chosen by the reader's browser or a `?lang=` link).
    homepage: [{ id: opts.galleryUrl, type: "Text", label: labelledName("iiif.homepage", metadata.name), format: "text/html", language: [...LOCALES] }],
    seeAlso: [
      { id: `${opts.base}/ipfs/${gallery.metadataCid}`, type: "Dataset", label: labelled("iiif.metadata"), format: "application/json", profile: metadata.$schema },
      ...(opts.linkedArtUrl ? [{ id: opts.linkedArtUrl, type: "Dataset", label: labelled("iiif.linkedArt"), format: "application/ld+json", profile: LINKED_ART_CONTEXT }] : []),
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
        label: content(img.label),
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

/** A label naming the edition, in each language with the edition's name as written in (or nearest to) it. */
function labelledName(key: MessageKey, name: Localizable): LanguageMap {
  return Object.fromEntries(LOCALES.map((l) => {
    const t = translator(l);
    return [l, [t.t(key, { name: typeof name === "string" ? name : (languagesOf(name).find(([tag]) => tag && matchLocale(tag) === l) ?? languagesOf(name)[0]!)[1] })]];
  }));
}

function imageResource(base: string, img: { cid: string; mediaType: string; width: number; height: number }) {
  return { id: `${base}/ipfs/${img.cid}`, type: "Image", format: img.mediaType, width: img.width, height: img.height };
}
