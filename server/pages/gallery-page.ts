import { policyShownAs, type EditionGallery } from "../../core/editions/index.ts";
import { DUBLIN_CORE_FIELDS } from "../../core/editions/metadata.ts";
import { html, type Html } from "./html.ts";
import { DUBLIN_CORE_LABELS, valueLanguage } from "./iiif-manifest.ts";
import { page } from "./layout.ts";
import type { Reader } from "./reader.ts";

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
  const { metadata, edition } = gallery;
  const lang = valueLanguage(gallery);
  // Values are in the object's own language; the page around them is English.
  const langAttr = lang === "none" ? "" : html` lang="${lang}"`;
  const N = edition.maxSupply;
  const listed = edition.items.slice(0, MAX_LISTED_ITEMS);
  const dc = metadata.dublinCore;
  const paragraphs = (metadata.story ?? "").split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);

  const body = html`
${opts.issuer ?? ""}
<p class="note">Museum collectible · limited edition of ${N}</p>
<h1${langAttr}>${metadata.name}</h1>
<p class="held" id="held">${gallery.held} of ${N} held</p>
${metadata.description ? html`<p class="lead"${langAttr}>${metadata.description}</p>` : ""}

<section aria-labelledby="images-heading">
  <h2 id="images-heading">Images (${gallery.images.length})</h2>
  <ul class="images">
    ${gallery.images.map(
      (img, i) => html`<li><figure>
      <img src="/ipfs/${img.cid}" alt="${img.label}" width="${img.width}" height="${img.height}" ${i === 0 ? "" : html`loading="lazy"`} decoding="async">
      <figcaption${langAttr}>${img.label}<br><a href="/ipfs/${img.cid}">Full-size image ${i + 1}<span class="visually-hidden">: ${img.label}</span></a>
      <span class="note">(${img.width} × ${img.height} px)</span></figcaption>
    </figure></li>`,
    )}
  </ul>
</section>

${paragraphs.length
  ? html`<section class="story" aria-labelledby="story-heading">
  <h2 id="story-heading">The story</h2>
  ${paragraphs.map((p) => html`<p${langAttr}>${p}</p>`)}
</section>`
  : ""}

<section aria-labelledby="items-heading">
  <h2 id="items-heading">Held items (${edition.items.length} of ${N})</h2>
  ${edition.items.length
    ? html`<p class="note">Every item is unique: its serial number within the edition, and the account that holds it now, read from the blockchain.</p>
  <ol class="serials">
    ${listed.map(
      (item) => html`<li><span class="serial">#${item.serial} / ${N}</span>
      <span class="holder">Held by <span class="mono">${item.holder}</span></span></li>`,
    )}
  </ol>
  ${edition.items.length > listed.length ? html`<p class="note">The first ${listed.length} of ${edition.items.length} items are listed.</p>` : ""}`
    : html`<p>No item of this edition has been given out yet.</p>`}
  ${edition.minted > edition.items.length
    ? html`<p class="note">The contract counts ${edition.minted} items minted; the node answered for ${edition.items.length} of them (older logs may have been pruned).</p>`
    : ""}
</section>

${DUBLIN_CORE_FIELDS.some((f) => dc[f]?.length)
  ? html`<section aria-labelledby="record-heading">
  <h2 id="record-heading">Museum record</h2>
  <table class="record">
    <caption>The object's catalogue record, in Dublin Core.</caption>
    <tbody>
    ${DUBLIN_CORE_FIELDS.filter((f) => dc[f]?.length).map(
      (f) => html`<tr><th scope="row">${DUBLIN_CORE_LABELS[f]} <span class="visually-hidden">(dc:${f})</span></th><td${langAttr}>${dcValues(dc[f]!)}</td></tr>`,
    )}
    </tbody>
  </table>
</section>`
  : ""}

<section aria-labelledby="iiif-heading">
  <h2 id="iiif-heading">Open in a museum viewer</h2>
  <div class="iiif">
    <p>These images are published as a IIIF Presentation 3 manifest, which viewers such as Mirador and Universal Viewer open
    with deep zoom and the object's record alongside.</p>
    <p><a class="button" href="${opts.manifestUrl}" type="application/ld+json">IIIF manifest of this edition</a></p>
    <p class="note">Manifest address: <code>${opts.manifestUrl}</code></p>
    ${opts.collectionUrl ? html`<p><a href="${opts.collectionUrl}" type="application/ld+json">All editions of this museum (IIIF Collection)</a></p>` : ""}
    ${opts.linkedArtUrl ? html`<p><a href="${opts.linkedArtUrl}" type="application/ld+json">This object in Linked Art (JSON-LD)</a></p>` : ""}
  </div>
</section>

<section aria-labelledby="chain-heading">
  <h2 id="chain-heading">On the blockchain</h2>
  <dl class="facts">
    <dt>Network</dt><dd>chain id ${opts.chainId}</dd>
    <dt>Editions contract</dt><dd class="mono">${edition.contract}</dd>
    <dt>Edition id</dt><dd>${edition.editionId.toString()}</dd>
    <dt>Edition size</dt><dd>${N} items; ${edition.minted} minted</dd>
    <dt>Transfers</dt><dd>${policyShownAs(edition.policy)}</dd>
    <dt>Metadata</dt><dd><a class="mono" href="/ipfs/${gallery.metadataCid}">${edition.uri}</a></dd>
  </dl>
</section>`;

  return page({
    title: `${metadata.name} · Museum gallery · Hallmark`,
    section: "Museum gallery",
    body,
    style: STYLE,
    ...(opts.reader ? { reader: opts.reader } : {}),
    footer: "Read from the blockchain and IPFS directly: the edition, its items and holders from the contract, its images and record from the metadata the contract names.",
  });
}

function dcValues(values: string[]): Html {
  const one = (v: string) => (/^https?:\/\/\S+$/.test(v) ? html`<a href="${v}">${v}</a>` : html`${v}`);
  return values.length === 1 ? one(values[0]!) : html`<ul style="margin:0;padding-left:1.1rem">${values.map((v) => html`<li>${one(v)}</li>`)}</ul>`;
}

/** Not found, unreadable, or unreachable: one page, with the status and a sentence saying which. */
export function renderGalleryProblemPage(opts: { title: string; message: string; problems?: string[] }): string {
  return page({
    title: `${opts.title} · Museum gallery · Hallmark`,
    section: "Museum gallery",
    body: html`<h1>${opts.title}</h1>
<section class="verdict invalid" role="status"><span class="mark" aria-hidden="true">✗</span>
<div><p class="headline">${opts.title}</p><p>${opts.message}</p></div></section>
${opts.problems?.length ? html`<ul>${opts.problems.map((p) => html`<li><code>${p}</code></li>`)}</ul>` : ""}`,
  });
}
