import type { VerificationResult } from "../../core/verification/index.ts";
import type { Localizable } from "../../core/i18n/language-map.ts";
import { html, raw } from "./html.ts";
import { languageSwitcher, localized, localizedText, readerFor, tHtml, type Reader } from "./reader.ts";
import { withLang } from "./verify-page.ts";
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
.toolbar nav.languages { margin-left: auto; }
.toolbar { font-family: system-ui, sans-serif; max-width: 297mm; margin: 0 auto 1rem; display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
.toolbar > a, .toolbar button { font: inherit; padding: .5rem 1rem; border-radius: .375rem; border: 1px solid #0a4fa3; color: #0a4fa3; background: #fff; text-decoration: none; min-height: 44px; cursor: pointer; }
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

/**
 * Chinese, where the reader or the content is Chinese: serif CJK faces (Noto Serif CJK, Source Han Serif from Debian's
 * fonts-noto-cjk and its kin), then the sans ones, so no glyph falls to a font without it. Set on the page (and on
 * Chinese content in another page) and inherited, so monospace addresses and the toolbar keep their own faces.
 */
const CJK_STYLE = `
html:lang(zh), [lang|="zh"] { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", "SimSun", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", serif; }
:lang(zh) .issuer { letter-spacing: .1em; }
:lang(zh) .toolbar { font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif; }
`;

export async function renderCertificatePrintPage(result: VerificationResult, opts: { verifyUrl: string; reader?: Reader }): Promise<string> {
  const r = opts.reader ?? readerFor("en");
  const c = result.certificate;
  const chain = result.chain!;
  const title: Localizable = c.title ?? r.t("print.certificate");
  const issued = c.issuedAt ? r.date(c.issuedAt) : "";
  const body = html`<nav class="toolbar" aria-label="${r.t("print.actions")}">
  <button type="button" onclick="window.print()">${r.t("print.print")}</button>
  <a href="${withLang(r, opts.verifyUrl)}">${r.t("print.details")}</a>
  ${opts.reader ? languageSwitcher(opts.reader) : ""}
</nav>
<main class="sheet">
  <div class="frame">
    <header>
      <p class="issuer">${c.issuerName ?? ""}</p>
      ${c.collectionName ? html`<p class="kind">${c.collectionName}</p>` : ""}
    </header>
    <section class="body" aria-label="${r.t("print.certificate")}">
      ${c.recipientName ? html`<p class="certifies">${r.t("print.certifies")}</p><h1 class="recipient">${c.recipientName}</h1><p class="certifies">${r.t("print.awarded")}</p>` : ""}
      <p class="title" id="certificate-title">${localized(r, title)}</p>
      ${c.description ? html`<p class="description">${localized(r, c.description)}</p>` : ""}
      ${c.attributes.length ? html`<dl class="attributes">${c.attributes.map((a) => html`<div><dt>${a.label === undefined ? a.name : localized(r, a.label)}</dt><dd>${localized(r, a.value)}</dd></div>`)}</dl>` : ""}
    </section>
    <footer class="footer">
      <div>
        <p>${c.validUntil ? r.t("print.issuedUntil", { issued, until: r.date(c.validUntil) }) : r.t("print.issued", { issued })}</p>
        <p>${
          chain.tokenId === undefined
            ? tHtml(r, "print.anchored", { chainId: String(chain.chainId), contract: chain.contract, digest: chain.digest ?? "" })
            : tHtml(r, "print.recorded", { chainId: String(chain.chainId), contract: chain.contract, tokenId: chain.tokenId })
        }</p>
        <p>${tHtml(r, "print.verifyAt", { url: opts.verifyUrl })}</p>
      </div>
      ${await qrCode(opts.verifyUrl, r.t("verify.scanToVerify", { url: opts.verifyUrl }))}
    </footer>
  </div>
</main>`;
  return `<!doctype html>\n${html`<html lang="${r.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${localizedText(r, title)}${c.recipientName ? ` · ${c.recipientName}` : ""}</title><style>${raw(STYLE + CJK_STYLE)}</style></head>
<body>${body}</body></html>`.value}`;
}
