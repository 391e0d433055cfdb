import type { EditionGallery } from "../../core/editions/index.ts";
import { transferPolicyOf } from "../../core/editions/transfer-policy.ts";
import { pickLanguage, type Localizable } from "../../core/i18n/language-map.ts";
import { DUBLIN_CORE_FIELDS } from "../../core/editions/metadata.ts";
import { html, type Html } from "./html.ts";
import { valueLanguage } from "./iiif-manifest.ts";
import { page } from "./layout.ts";
import { localizedText, readerFor, tHtml, type Reader } from "./reader.ts";

/** Items listed by serial; beyond this the page says how many more there are rather than growing without bound. */
export const MAX_LISTED_ITEMS = 500;

const STYLE = `
.lead { font-size: 1.1rem; max-width: 48rem; }
.held { display: inline-block; font-weight: 700; font-size: 1.05rem; border: 2px solid var(--ok); color: var(--ok); background: var(--ok-bg);
  border-radius: 1rem; padding: .1rem .75rem; margin: 0 0 .5rem; }
ul.images { list-style: none; padding: 0; margin: 1rem 0; display: grid; gap: 1.25rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 18rem), 1fr)); }
ul.images li:first-child { grid-column: 1 / -1; }
ul.images figure { margin: 0; border: 1px solid var(--line); border-radius: .5rem; overflow: hidden; background: var(--panel); }
ul.images img { display: block; width: 100%; height: auto; background: var(--line); }
ul.images li:first-child img { max-height: 70vh; object-fit: contain; }
ul.images figcaption { padding: .5rem .75rem; }
ul.images figcaption a { display: inline-block; padding: .25rem 0; }
.story p { max-width: 48rem; }
ol.serials { list-style: none; padding: 0; margin: 0; display: grid; gap: .5rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 22rem), 1fr)); }
ol.serials li { border: 1px solid var(--line); border-radius: .375rem; padding: .5rem .75rem; background: var(--panel); display: flex; flex-direction: column; }
ol.serials .serial { font-weight: 700; font-size: 1.1rem; }
ol.serials .holder { overflow-wrap: anywhere; color: var(--muted); }
table.record { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.record caption { text-align: left; color: var(--muted); padding-bottom: .5rem; }
table.record th, table.record td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
table.record th { width: 11rem; color: var(--muted); font-weight: 600; overflow-wrap: normal; }
@media (max-width: 30rem) { table.record th { width: 8.5rem; } }
.iiif { border: 1px solid var(--line); border-radius: .5rem; padding: 1rem 1.25rem; background: var(--panel); }
.iiif code { overflow-wrap: anywhere; }
`;

/**
 * The museum gallery of one edition: its images (served from IPFS), the story, the object's Dublin Core record, how
 * many of the edition are held and each held item's serial, and the IIIF manifest for museum viewers.
 */
export function renderGalleryPage(
  gallery: EditionGallery,
  opts: { manifestUrl: string; chainId: number; issuer?: Html; linkedArtUrl?: string; collectionUrl?: string; reader?: Reader },
): string {
  const r = opts.reader ?? readerFor("en");
  const { metadata, edition } = gallery;
  const lang = valueLanguage(gallery);
  // Values are in the object's own language; the page around them is the reader's.
  const langAttr = lang === "none" ? "" : html` lang="${lang}"`;
  const N = edition.maxSupply;
  const listed = edition.items.slice(0, MAX_LISTED_ITEMS);
  const dc = metadata.dublinCore;
  const name = localizedText(r, metadata.name);
  const paragraphs = localizedText(r, metadata.story ?? "").split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  const contentLang = (value: Localizable): Html | "" => {
    const picked = pickLanguage(value, r.locale).lang;
    return picked ? html` lang="${picked}"` : langAttr;
  };
  const label = (img: { label: Localizable }) => localizedText(r, img.label);

  const body = html`
${opts.issuer ?? ""}
<p class="note">${r.t("gallery.kicker", { size: N })}</p>
<h1${contentLang(metadata.name)}>${name}</h1>
<p class="held" id="held">${r.t("gallery.held", { held: gallery.held, size: N })}</p>
${metadata.description ? html`<p class="lead"${contentLang(metadata.description)}>${localizedText(r, metadata.description)}</p>` : ""}

<section aria-labelledby="images-heading">
  <h2 id="images-heading">${r.t("gallery.images", { count: gallery.images.length })}</h2>
  <ul class="images">
    ${gallery.images.map(
      (img, i) => html`<li><figure>
      <img src="/ipfs/${img.cid}" alt="${label(img)}" width="${img.width}" height="${img.height}" ${i === 0 ? "" : html`loading="lazy"`} decoding="async">
      <figcaption${contentLang(img.label)}>${label(img)}<br><a href="/ipfs/${img.cid}">${tHtml(r, "gallery.fullSize", { n: i + 1, label: label(img) })}</a>
      <span class="note">${r.t("gallery.pixels", { width: img.width, height: img.height })}</span></figcaption>
    </figure></li>`,
    )}
  </ul>
</section>

${paragraphs.length
  ? html`<section class="story" aria-labelledby="story-heading">
  <h2 id="story-heading">${r.t("gallery.story")}</h2>
  ${paragraphs.map((p) => html`<p${contentLang(metadata.story ?? "")}>${p}</p>`)}
</section>`
  : ""}

<section aria-labelledby="items-heading">
  <h2 id="items-heading">${r.t("gallery.items", { count: edition.items.length, size: N })}</h2>
  ${edition.items.length
    ? html`<p class="note">${r.t("gallery.itemsNote")}</p>
  <ol class="serials">
    ${listed.map(
      (item) => html`<li><span class="serial">#${item.serial} / ${N}</span>
      <span class="holder">${tHtml(r, "gallery.heldBy", { holder: item.holder })}</span></li>`,
    )}
  </ol>
  ${edition.items.length > listed.length ? html`<p class="note">${r.t("gallery.firstListed", { listed: listed.length, count: edition.items.length })}</p>` : ""}`
    : html`<p>${r.t("gallery.noItems")}</p>`}
  ${edition.minted > edition.items.length
    ? html`<p class="note">${r.t("gallery.pruned", { minted: edition.minted, count: edition.items.length })}</p>`
    : ""}
</section>

${DUBLIN_CORE_FIELDS.some((f) => dc[f]?.length)
  ? html`<section aria-labelledby="record-heading">
  <h2 id="record-heading">${r.t("gallery.record")}</h2>
  <table class="record">
    <caption>${r.t("gallery.recordCaption")}</caption>
    <tbody>
    ${DUBLIN_CORE_FIELDS.filter((f) => dc[f]?.length).map(
      (f) => html`<tr><th scope="row">${r.t(`gallery.dc.${f}`)} <span class="visually-hidden">(dc:${f})</span></th><td${langAttr}>${dcValues(dc[f]!)}</td></tr>`,
    )}
    </tbody>
  </table>
</section>`
  : ""}

<section aria-labelledby="iiif-heading">
  <h2 id="iiif-heading">${r.t("gallery.viewer")}</h2>
  <div class="iiif">
    <p>${r.t("gallery.viewerIntro")}</p>
    <p><a class="button" href="${opts.manifestUrl}" type="application/ld+json">${r.t("gallery.manifestLink")}</a></p>
    <p class="note">${tHtml(r, "gallery.manifestAddress", { url: opts.manifestUrl })}</p>
    ${opts.collectionUrl ? html`<p><a href="${opts.collectionUrl}" type="application/ld+json">${r.t("gallery.collectionLink")}</a></p>` : ""}
    ${opts.linkedArtUrl ? html`<p><a href="${opts.linkedArtUrl}" type="application/ld+json">${r.t("gallery.linkedArtLink")}</a></p>` : ""}
  </div>
</section>

<section aria-labelledby="chain-heading">
  <h2 id="chain-heading">${r.t("gallery.chain")}</h2>
  <dl class="facts">
    <dt>${r.t("gallery.network")}</dt><dd>${r.t("gallery.chainId", { id: String(opts.chainId) })}</dd>
    <dt>${r.t("gallery.contract")}</dt><dd class="mono">${edition.contract}</dd>
    <dt>${r.t("gallery.editionId")}</dt><dd>${edition.editionId.toString()}</dd>
    <dt>${r.t("gallery.size")}</dt><dd>${r.t("gallery.sizeValue", { size: N, minted: edition.minted })}</dd>
    <dt>${r.t("gallery.transfers")}</dt><dd>${r.t(`gallery.policy.${transferPolicyOf(edition.policy)}`)}</dd>
    <dt>${r.t("gallery.metadata")}</dt><dd><a class="mono" href="/ipfs/${gallery.metadataCid}">${edition.uri}</a></dd>
  </dl>
</section>`;

  return page({
    title: r.t("gallery.pageTitle", { name }),
    section: r.t("gallery.section"),
    body,
    style: STYLE,
    footer: r.t("gallery.footer"),
    reader: opts.reader,
  });
}

function dcValues(values: string[]): Html {
  const one = (v: string) => (/^https?:\/\/\S+$/.test(v) ? html`<a href="${v}">${v}</a>` : html`${v}`);
  return values.length === 1 ? one(values[0]!) : html`<ul style="margin:0;padding-left:1.1rem">${values.map((v) => html`<li>${one(v)}</li>`)}</ul>`;
}

/** Not found, unreadable, or unreachable: one page, with the status and a sentence saying which. */
export function renderGalleryProblemPage(opts: { title: string; message: string; problems?: string[]; reader?: Reader }): string {
  const r = opts.reader ?? readerFor("en");
  return page({
    title: r.t("gallery.pageTitle", { name: opts.title }),
    section: r.t("gallery.section"),
    reader: opts.reader,
    body: html`<h1>${opts.title}</h1>
<section class="verdict invalid" role="status"><span class="mark" aria-hidden="true">✗</span>
<div><p class="headline">${opts.title}</p><p>${opts.message}</p></div></section>
${opts.problems?.length ? html`<ul>${opts.problems.map((p) => html`<li><code>${p}</code></li>`)}</ul>` : ""}`,
  });
}
