import { languagesOf, type Localizable } from "../i18n/language-map.ts";
import type { EditionGallery } from "./gallery.ts";

/**
 * Linked Art (https://linked.art/model/), the museum community's JSON-LD profile of CIDOC-CRM: the edition as a
 * HumanMadeObject, beside the Dublin Core record its metadata carries, so collection systems that read Linked Art
 * take the object without a Hallmark-specific mapping. Vocabulary terms are the Getty AAT's, as the profile asks.
 */
export const LINKED_ART_CONTEXT = "https://linked.art/ns/v1/linked-art.json";
export const LINKED_ART_CONTENT_TYPE = `application/ld+json;profile="${LINKED_ART_CONTEXT}"`;

const aat = (id: string, label: string) => ({ id: `http://vocab.getty.edu/aat/${id}`, type: "Type", _label: label });
const PRIMARY_NAME = aat("300404670", "Primary Name");
const DESCRIPTION = aat("300435416", "Description");
const BRIEF_TEXT = aat("300418049", "Brief Text");
const CREDIT_LINE = aat("300026687", "Credit Line");
const RIGHTS_STATEMENT = aat("300435434", "Copyright/Licensing Statement");
const PRODUCER_DESCRIPTION = aat("300435446", "Artist/Maker (Producer) Description");
const SYSTEM_NUMBER = aat("300435704", "System-Assigned Number");
const DIGITAL_IMAGE = aat("300215302", "Digital Image");
const WEB_PAGE = aat("300264578", "Web Page");
const EDITION_SIZE = aat("300404433", "Count");
const LANGUAGES: Record<string, { id: string; _label: string }> = {
  en: { id: "http://vocab.getty.edu/aat/300388277", _label: "English" },
  zh: { id: "http://vocab.getty.edu/aat/300388113", _label: "Chinese" },
};

function language(tag: string | undefined) {
  const known = tag ? LANGUAGES[tag.split("-")[0]!.toLowerCase()] : undefined;
  return known ? { language: [{ ...known, type: "Language" }] } : {};
}

/** One Linked Art content node per language the text is written in (a plain string: the record's language). */
function contents(value: Localizable, recordLanguage: string | undefined, node: (content: string, lang: string | undefined) => Record<string, unknown>) {
  return languagesOf(value).map(([lang, text]) => node(text, lang ?? recordLanguage));
}

export interface LinkedArtUrls {
  /** Where this document is served: its `id`. */
  objectUrl: string;
  galleryUrl: string;
  manifestUrl: string;
  /** The public base URL, for image addresses. */
  base: string;
}

/** The museum that issued the edition, when the issuer registry names one. */
export interface IssuingMuseum {
  name: string;
  /** Its domain, when proven. */
  domain?: string;
}

export function buildLinkedArtObject(gallery: EditionGallery, urls: LinkedArtUrls, museum?: IssuingMuseum): Record<string, unknown> {
  const { metadata, edition } = gallery;
  const dc = metadata.dublinCore;
  const recordLanguage = dc.language?.[0];
  const name = metadata.name;
  const statement = (classification: Record<string, unknown>) => (content: string, lang: string | undefined) => ({
    type: "LinguisticObject",
    classified_as: [classification],
    content,
    ...language(lang),
  });

  const referredToBy: Record<string, unknown>[] = [];
  if (metadata.description) referredToBy.push(...contents(metadata.description, recordLanguage, statement({ ...DESCRIPTION, classified_as: [BRIEF_TEXT] })));
  for (const rights of dc.rights ?? []) referredToBy.push(statement(RIGHTS_STATEMENT)(rights, recordLanguage));
  if (museum) {
    referredToBy.push(statement(CREDIT_LINE)(museum.domain ? `Issued by ${museum.name} (${museum.domain})` : `Issued by ${museum.name}`, "en"));
  }

  const production: Record<string, unknown> = { type: "Production" };
  if (dc.creator?.length) production.referred_to_by = dc.creator.map((c) => statement(PRODUCER_DESCRIPTION)(c, recordLanguage));
  if (dc.date?.length) production.timespan = { type: "TimeSpan", identified_by: dc.date.map((d) => ({ type: "Name", content: d })) };

  return {
    "@context": LINKED_ART_CONTEXT,
    id: urls.objectUrl,
    type: "HumanMadeObject",
    _label: languagesOf(name)[0]![1],
    identified_by: [
      ...contents(name, recordLanguage, (content, lang) => ({ type: "Name", classified_as: [PRIMARY_NAME], content, ...language(lang) })),
      { type: "Identifier", classified_as: [SYSTEM_NUMBER], content: `${edition.contract}/${edition.editionId}` },
      ...(dc.identifier ?? []).map((content) => ({ type: "Identifier", content })),
    ],
    ...(referredToBy.length ? { referred_to_by: referredToBy } : {}),
    ...(Object.keys(production).length > 1 ? { produced_by: production } : {}),
    dimension: [{ type: "Dimension", classified_as: [EDITION_SIZE], value: edition.maxSupply, unit: { id: "http://vocab.getty.edu/aat/300241583", type: "MeasurementUnit", _label: "Components" } }],
    representation: gallery.images.map((img) => ({
      type: "VisualItem",
      // `_label` is a string for people reading the JSON: a label in several languages gives its first (English first).
      _label: languagesOf(img.label)[0]![1],
      digitally_shown_by: [
        {
          type: "DigitalObject",
          classified_as: [DIGITAL_IMAGE],
          format: img.mediaType,
          access_point: [{ id: `${urls.base}/ipfs/${img.cid}`, type: "DigitalObject" }],
        },
      ],
    })),
    subject_of: [
      {
        type: "LinguisticObject",
        _label: "IIIF manifest",
        digitally_carried_by: [
          {
            type: "DigitalObject",
            format: "application/ld+json;profile=\"http://iiif.io/api/presentation/3/context.json\"",
            conforms_to: [{ id: "http://iiif.io/api/presentation", type: "InformationObject" }],
            access_point: [{ id: urls.manifestUrl, type: "DigitalObject" }],
          },
        ],
      },
      {
        type: "LinguisticObject",
        _label: "Gallery page",
        digitally_carried_by: [{ type: "DigitalObject", classified_as: [WEB_PAGE], format: "text/html", access_point: [{ id: urls.galleryUrl, type: "DigitalObject" }] }],
      },
    ],
  };
}
