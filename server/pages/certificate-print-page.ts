import type { VerificationResult } from "../../core/verification/index.ts";
import { html, raw } from "./html.ts";
import { qrCode } from "./qr.ts";

/**
 * The certificate as a holder prints it: landscape A4, the fields the issuer anchored on chain, and a QR code of
 * its verify link so whoever holds the paper can check it is still valid. Rendered only from a VALID verification.
 */
const STYLE = `
@page { size: A4 landscape; margin: 0; }
* { box-sizing: border-box; }
html { font-family: Georgia, "DejaVu Serif", "Liberation Serif", "Times New Roman", serif; color: #1b1f24; background: #e9ebef; }
body { margin: 0; padding: 1.5rem; }
.toolbar { font-family: system-ui, sans-serif; max-width: 297mm; margin: 0 auto 1rem; display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
.toolbar a, .toolbar button { font: inherit; padding: .5rem 1rem; border-radius: .375rem; border: 1px solid #0a4fa3; color: #0a4fa3; background: #fff; text-decoration: none; min-height: 44px; cursor: pointer; }
.toolbar button { background: #0a4fa3; color: #fff; }
a:focus-visible, button:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
.sheet { background: #fff; width: 100%; max-width: 297mm; aspect-ratio: 297 / 210; margin: 0 auto; padding: 12mm; box-shadow: 0 2px 12px rgba(0,0,0,.15); }
.frame { border: 3px double #5b4a1f; height: 100%; padding: 10mm 14mm; display: grid; grid-template-rows: auto 1fr auto; text-align: center; }
.issuer { letter-spacing: .25em; text-transform: uppercase; font-size: 1rem; color: #5b4a1f; margin: 0; }
.kind { font-size: .95rem; color: #4a5360; margin: .25rem 0 0; }
.body { display: flex; flex-direction: column; justify-content: center; gap: .6rem; }
.certifies { font-style: italic; color: #4a5360; margin: 0; }
.recipient { font-size: clamp(1.8rem, 1rem + 3vw, 2.8rem); margin: 0; }
.title { font-size: clamp(1.3rem, .9rem + 1.6vw, 1.9rem); margin: 0; font-weight: 700; }
.description { margin: 0 auto; max-width: 42em; color: #333a44; }
.attributes { display: flex; justify-content: center; gap: .5rem 2rem; flex-wrap: wrap; margin: .25rem 0 0; padding: 0; list-style: none; }
.attributes dt { font-size: .8rem; color: #4a5360; text-transform: uppercase; letter-spacing: .08em; }
.attributes dd { margin: 0; font-weight: 700; }
.footer { display: grid; grid-template-columns: 1fr auto; gap: 1rem; align-items: end; text-align: left; font-size: .8rem; color: #4a5360; }
.footer p { margin: .15rem 0; overflow-wrap: anywhere; }
figure.qr { margin: 0; width: 32mm; text-align: center; }
figure.qr svg { width: 32mm; height: 32mm; display: block; }
figure.qr figcaption { position: absolute; left: -9999px; }
.mono { font-family: ui-monospace, Menlo, Consolas, "Liberation Mono", monospace; }
@media (max-width: 40rem) { .sheet { aspect-ratio: auto; padding: 4mm; } .frame { padding: 6mm; } .footer { grid-template-columns: 1fr; } }
@media print { html, body { background: #fff; padding: 0; margin: 0; } .toolbar { display: none; } .sheet { box-shadow: none; max-width: none; width: auto; aspect-ratio: auto; height: 100vh; } }
`;

const DATE = new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeZone: "UTC" });

export async function renderCertificatePrintPage(result: VerificationResult, opts: { verifyUrl: string }): Promise<string> {
  const c = result.certificate;
  const chain = result.chain!;
  const when = (iso: string | undefined) => (iso ? DATE.format(new Date(iso)) : undefined);
  const body = html`<nav class="toolbar" aria-label="Certificate actions">
  <button type="button" onclick="window.print()">Print</button>
  <a href="${opts.verifyUrl}">Verification details</a>
</nav>
<main class="sheet">
  <div class="frame">
    <header>
      <p class="issuer">${c.issuerName ?? ""}</p>
      ${c.collectionName ? html`<p class="kind">${c.collectionName}</p>` : ""}
    </header>
    <section class="body" aria-label="Certificate">
      ${c.recipientName ? html`<p class="certifies">This certifies that</p><h1 class="recipient">${c.recipientName}</h1><p class="certifies">has been awarded</p>` : ""}
      <p class="title">${c.title ?? "Certificate"}</p>
      ${c.description ? html`<p class="description">${c.description}</p>` : ""}
      ${c.attributes.length ? html`<dl class="attributes">${c.attributes.map((a) => html`<div><dt>${a.name}</dt><dd>${a.value}</dd></div>`)}</dl>` : ""}
    </section>
    <footer class="footer">
      <div>
        <p>Issued ${when(c.issuedAt) ?? ""}${c.validUntil ? html` · valid until ${when(c.validUntil)}` : ""}</p>
        ${
          chain.tokenId === undefined
            ? html`<p>Anchored on chain ${chain.chainId} in <span class="mono">${chain.contract}</span>, digest <span class="mono">${chain.digest ?? ""}</span></p>`
            : html`<p>Recorded on chain ${chain.chainId}, registry <span class="mono">${chain.contract}</span>, token #${chain.tokenId}</p>`
        }
        <p>Verify at <span class="mono">${opts.verifyUrl}</span> or scan the code.</p>
      </div>
      ${await qrCode(opts.verifyUrl, `Scan to verify: ${opts.verifyUrl}`)}
    </footer>
  </div>
</main>`;
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${c.title ?? "Certificate"}${c.recipientName ? ` · ${c.recipientName}` : ""}</title><style>${raw(STYLE)}</style></head>
<body>${body}</body></html>`.value}`;
}
