import { CID } from "multiformats/cid";
import { z } from "zod";
import { DEFAULT_LOCALE } from "../i18n/locales.ts";
import { languagesOf, pickLanguage, type Localizable } from "../i18n/language-map.ts";
import { canonicalJson } from "../metadata/canonical-json.ts";
import { IpfsNotFoundError, IpfsUnavailableError, type IpfsStore } from "../ipfs/index.ts";
import { EditionMetadataUnusableError, ChainReadError } from "./errors.ts";

/**
 * Edition metadata: the document's format (built by `requestCreateEdition`, parsed by every reader) and its fetching
 * from IPFS for the gallery and holdings.
 *
 * The edition metadata document: pinned to IPFS and named by the edition's on-chain `uri` (`ipfs://<cid>`). ERC-721
 * metadata fields (name, description, image) sit at the top so wallets and explorers show the edition; the gallery
 * reads `story`, `images` and the museum object record in Dublin Core (`dublinCore`, the fifteen-element set less
 * `publisher`, `contributor` and `relation`, which museums rarely fill for an object).
 */
export const EDITION_SCHEMA = "https://hallmark.dev/schemas/edition/v1";

/** Dublin Core elements kept for the museum object, in the order they are shown. Each may repeat. */
export const DUBLIN_CORE_FIELDS = [
  "title",
  "creator",
  "date",
  "subject",
  "description",
  "rights",
  "identifier",
  "type",
  "format",
  "source",
  "language",
  "coverage",
] as const;
export type DublinCoreField = (typeof DUBLIN_CORE_FIELDS)[number];
export type DublinCore = Partial<Record<DublinCoreField, string[]>>;

export const IMAGE_MEDIA_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

export interface EditionImage {
  /** `ipfs://<cid>` */
  uri: string;
  /** What the image shows, in words: the gallery's alt text and the IIIF canvas label (a string or a language map). */
  label: Localizable;
  /** Pixels; read from the PNG or JPEG header when absent. */
  width?: number;
  height?: number;
  mediaType?: ImageMediaType;
}

/**
 * `name`, `description`, `story` and image labels are each a string, or a language map (`{ "zh-CN": "…", "en": "…" }`)
 * for a museum that writes in several languages: the gallery shows the reader's, the IIIF manifest carries them all.
 */
export interface EditionMetadata {
  $schema: typeof EDITION_SCHEMA;
  name: Localizable;
  /** One or two sentences. */
  description: Localizable;
  /** The edition's story, longer: paragraphs separated by blank lines. */
  story?: Localizable;
  /** `ipfs://<cid>` of the lead image (the first of `images` when the builder makes it). */
  image: string;
  images: EditionImage[];
  dublinCore: DublinCore;
}

const ipfsUri = z.string().refine((uri) => cidOfIpfsUri(uri) !== undefined, { message: "must be an ipfs://<cid> URI naming a valid CID" });
const nonEmpty = z.string().trim().min(1, { message: "must not be empty" });
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
/**
 * A string, or a language map of such strings (`{ "zh-CN": "…", "en": "…" }`). Each problem is reported as the
 * string's own schema words it, at the string's path (`name.zh-CN: must not be empty`), not as a failed union.
 */
const localized = (text: z.ZodType<string>) =>
  z.unknown().transform((value, ctx): Localizable => {
    const report = (issues: readonly z.core.$ZodIssue[], at: (string | number)[] = []) => {
      for (const issue of issues) ctx.addIssue({ code: "custom", message: issue.message, path: [...at, ...issue.path] });
      return z.NEVER;
    };
    if (value === undefined) return report([{ code: "custom", message: "is required", path: [], input: value }]);
    if (typeof value === "string") {
      const r = text.safeParse(value);
      return r.success ? r.data : report(r.error.issues);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return report([{ code: "custom", message: "must be a string or a language map of strings", path: [], input: value }]);
    }
    const entries = Object.entries(value);
    if (!entries.length) return report([{ code: "custom", message: "must name at least one language", path: [], input: value }]);
    const map: Record<string, string> = {};
    let ok = true;
    for (const [tag, v] of entries) {
      if (!LANGUAGE_TAG.test(tag)) {
        ctx.addIssue({ code: "custom", message: "is not a BCP 47 language tag", path: [tag] });
        ok = false;
        continue;
      }
      const r = text.safeParse(v);
      if (r.success) map[tag] = r.data;
      else {
        report(r.error.issues, [tag]);
        ok = false;
      }
    }
    return ok ? map : z.NEVER;
  });
const pixels = z.number().int({ message: "must be a whole number of pixels" }).positive({ message: "must be positive" }).max(65_535 * 8);
const dcValue = z.union([nonEmpty, z.array(nonEmpty).min(1, { message: "must list at least one value" })]).transform((v) => (Array.isArray(v) ? v : [v]));

const imageSchema = z
  .object({
    uri: ipfsUri,
    label: localized(nonEmpty),
    width: pixels.optional(),
    height: pixels.optional(),
    mediaType: z.enum(IMAGE_MEDIA_TYPES, { message: `must be one of ${IMAGE_MEDIA_TYPES.join(", ")}` }).optional(),
  })
  .refine((img) => (img.width === undefined) === (img.height === undefined), { message: "width and height go together: give both or neither" });

const documentSchema = z.object({
  $schema: z.literal(EDITION_SCHEMA, { message: `must be "${EDITION_SCHEMA}"` }),
  name: localized(nonEmpty),
  description: localized(z.string()),
  story: localized(z.string()).optional(),
  image: ipfsUri,
  images: z.array(imageSchema).min(1, { message: "must list at least one image" }).max(500, { message: "must list at most 500 images" }),
  dublinCore: z
    .strictObject(Object.fromEntries(DUBLIN_CORE_FIELDS.map((f) => [f, dcValue.optional()])) as Record<DublinCoreField, z.ZodOptional<typeof dcValue>>, {
      error: (issue) =>
        issue.code === "unrecognized_keys" ? `unknown Dublin Core element ${issue.keys.join(", ")} (known: ${DUBLIN_CORE_FIELDS.join(", ")})` : undefined,
    })
    .default({}),
});

/** A document that is not edition metadata; `problems` lists every problem found, each as `path: what is wrong`. */
export class EditionMetadataError extends Error {
  override name = "EditionMetadataError";
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`not valid edition metadata: ${problems.join("; ")}`);
    this.problems = problems;
  }
}

/** Parses edition metadata from bytes or a parsed value, reporting every problem at once. */
export function parseEditionMetadata(input: Uint8Array | unknown): EditionMetadata {
  let value = input;
  if (input instanceof Uint8Array) {
    try {
      value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(input));
    } catch (err) {
      throw new EditionMetadataError([`the document is not UTF-8 JSON (${(err as Error).message})`]);
    }
  }
  const result = documentSchema.safeParse(value);
  if (!result.success) {
    throw new EditionMetadataError(
      result.error.issues.map((issue) => {
        const path = issue.path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
        const message = /received undefined$/.test(issue.message) ? "is required" : issue.message;
        return `${path || "document"}: ${message}`;
      }),
    );
  }
  const doc = result.data;
  const dublinCore: DublinCore = {};
  for (const field of DUBLIN_CORE_FIELDS) if (doc.dublinCore[field]) dublinCore[field] = doc.dublinCore[field];
  return { ...doc, $schema: EDITION_SCHEMA, dublinCore };
}

/** The CID an `ipfs://<cid>` URI names, or undefined for anything else. */
export function cidOfIpfsUri(uri: string): string | undefined {
  const m = /^ipfs:\/\/([A-Za-z0-9]+)$/.exec(uri);
  if (!m) return undefined;
  try {
    return CID.parse(m[1]!).toString();
  } catch {
    return undefined;
  }
}

export interface EditionMetadataInput {
  name: Localizable;
  description: Localizable;
  story?: Localizable;
  /** Pinned images: the first is the lead image. */
  images: { cid: string; label: Localizable; width?: number; height?: number; mediaType?: ImageMediaType }[];
  dublinCore?: Partial<Record<DublinCoreField, string | string[]>>;
}

/**
 * Builds an edition metadata document (canonical JSON, so the same edition always pins to the same CID). The result
 * is checked by the parser, so a document the builder makes is always one the gallery reads.
 */
export function buildEditionMetadata(input: EditionMetadataInput): { bytes: Uint8Array; document: EditionMetadata } {
  const first = input.images[0];
  const candidate = {
    $schema: EDITION_SCHEMA,
    name: input.name,
    description: input.description,
    story: input.story,
    image: first ? `ipfs://${first.cid}` : "",
    images: input.images.map((img) => ({ uri: `ipfs://${img.cid}`, label: img.label, width: img.width, height: img.height, mediaType: img.mediaType })),
    // Dublin Core repeats an element rather than tagging it: a name in two languages is two titles.
    dublinCore: { title: everyText(input.name), description: everyText(input.description), ...input.dublinCore },
  };
  const document = parseEditionMetadata(JSON.parse(canonicalJson(candidate)));
  return { bytes: new TextEncoder().encode(canonicalJson(document)), document };
}

function everyText(value: Localizable): string | string[] {
  return typeof value === "string" ? value : languagesOf(value).map(([, text]) => text);
}

/** The text of content in the default language, else the first written (what a chain record or a wallet shows). */
export function plainText(value: Localizable): string {
  return pickLanguage(value, DEFAULT_LOCALE).text;
}

/** An edition metadata document is a few KiB; anything far larger is not one, and is not read into memory. */
export const MAX_METADATA_BYTES = 1024 * 1024;

/** Fetches the metadata document an edition's `uri` names from the IPFS store, and parses it. */
export async function fetchEditionMetadata(ipfs: IpfsStore, uri: string): Promise<{ cid: string; metadata: EditionMetadata }> {
  const cid = cidOfIpfsUri(uri);
  if (!cid) throw new EditionMetadataUnusableError([`the edition's URI ${JSON.stringify(uri)} is not an ipfs://<cid> URI`]);
  const bytes = await readAll(ipfs, cid, MAX_METADATA_BYTES, "metadata document");
  try {
    return { cid, metadata: parseEditionMetadata(bytes) };
  } catch (err) {
    if (err instanceof EditionMetadataError) throw new EditionMetadataUnusableError(err.problems, { cause: err });
    throw err;
  }
}

/** Reads a whole file, or its first `limit` bytes when `truncate` is set; maps store errors to edition errors. */
export async function readAll(ipfs: IpfsStore, cid: string, limit: number, what: string, opts: { truncate?: boolean } = {}): Promise<Uint8Array> {
  try {
    if (!opts.truncate && (await ipfs.size(cid)) > limit) throw new EditionMetadataUnusableError([`the ${what} ${cid} is larger than ${limit} bytes`]);
    const chunks: Uint8Array[] = [];
    for await (const chunk of ipfs.cat(cid, { length: limit })) chunks.push(chunk);
    return Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof IpfsNotFoundError) throw new EditionMetadataUnusableError([`the ${what} ${cid} is not held by this platform's IPFS store`], { cause: err });
    if (err instanceof IpfsUnavailableError) throw new ChainReadError(`IPFS is unavailable: ${err.message}`, { cause: err });
    throw err;
  }
}
