import type { Localizable } from "../../core/i18n/language-map.ts";
import { checkReason } from "../../core/i18n/check-reasons.ts";
import type { CertificateSummary, Check, ChainFacts, VerificationResult, Verdict } from "../../core/verification/index.ts";
import { html, type Html } from "./html.ts";
import { page } from "./layout.ts";
import { qrCode } from "./qr.ts";
import { localized, localizedText, readerFor, tHtml, type Reader } from "./reader.ts";
import { UPLOAD_STYLE, uploadSection } from "./verify-upload.ts";

const VERDICTS: Record<Verdict, { css: string; mark: string }> = {
  VALID: { css: "valid", mark: "✓" },
  INVALID: { css: "invalid", mark: "✗" },
  UNKNOWN: { css: "unknown", mark: "?" },
};

export async function renderVerifyPage(
  result: VerificationResult,
  opts: { verifyUrl: string; credentialUrl?: string; printUrl?: string; reader?: Reader },
): Promise<string> {
  const r = opts.reader ?? readerFor("en");
  const v = VERDICTS[result.verdict];
  const headline = r.t(`verify.verdict.${result.verdict}`);
  const c = result.certificate;
  const title: Localizable = c.title ?? r.t("verify.defaultTitle");
  const trusted = result.checks.some((check) => check.name === "integrity" && check.result === "valid");
  const body = html`
<p class="note">${r.t("verify.section")}</p>
<h1>${localized(r, title)}</h1>
<section class="verdict ${v.css}" role="status" aria-labelledby="verdict-headline">
  <span class="mark" aria-hidden="true">${v.mark}</span>
  <div><p class="headline" id="verdict-headline">${headline}</p><p>${r.t(`verify.verdict.${result.verdict}.explain`)}</p></div>
</section>
<div class="layout">
  <div>
    <section class="certificate" aria-labelledby="cert-heading">
      <h2 id="cert-heading" style="margin-top:0">${r.t(trusted ? "verify.states" : "verify.claims")}</h2>
      ${trusted || !c.title ? "" : html`<p class="note">${r.t("verify.unconfirmed")}</p>`}
      ${recipientLine(r, c)}
      ${c.title ? "" : html`<p class="note">${r.t("verify.unreadable")}</p>`}
      <dl class="facts">
        ${fact(r.t("verify.field.title"), c.title === undefined ? undefined : localized(r, c.title))}
        ${fact(r.t("verify.field.description"), c.description === undefined || c.description === "" ? undefined : localized(r, c.description))}
        ${fact(r.t("verify.field.issuedBy"), c.issuerName)}
        ${fact(r.t("verify.field.collection"), c.collectionName)}
        ${fact(r.t("verify.field.issued"), c.issuedAt ? date(r, c.issuedAt) : undefined)}
        ${fact(r.t("verify.field.validUntil"), c.validUntil ? date(r, c.validUntil) : c.issuedAt ? r.t("verify.noExpiry") : undefined)}
        ${c.attributes.map((a) => fact(a.label === undefined ? a.name : localizedText(r, a.label), personalNote(r, c, a.name, a.value)))}
        ${(c.personal ?? []).filter((p) => p.status !== "MATCHES" && p.status !== "PUBLIC").map((p) => fact(p.name, r.t(`verify.disclosure.${p.status as "DOES_NOT_MATCH" | "NOT_DISCLOSED"}`)))}
        ${fact(r.t("verify.field.holderAddress"), c.recipientAddress ? html`<span class="mono">${c.recipientAddress}</span>` : undefined)}
      </dl>
    </section>
    <h2 id="checks-heading">${r.t("verify.checks")}</h2>
    <ul class="checks" aria-labelledby="checks-heading">
      ${result.checks.map(
        (check) => html`<li class="${check.result}"><span class="name">${r.t("verify.checkName", { name: r.t(`verify.check.${check.name}`) })}</span> <span class="result">${r.t(`verify.result.${check.result}`)}</span>
        ${reasonOf(r, check, result.chain)}</li>`,
      )}
    </ul>
    ${result.chain ? chainSection(r, result.chain) : ""}
    <p class="note">${tHtml(r, "verify.checkedAt", { when: date(r, result.checkedAt) })}</p>
  </div>
  <aside aria-label="${r.t("verify.linkLabel")}">
    ${await qrCode(opts.verifyUrl, r.t("verify.scanToVerify", { url: opts.verifyUrl }))}
    <div class="actions">
      <button type="button" class="button primary" onclick="window.print()">${r.t("verify.printCheck")}</button>
      ${opts.printUrl ? html`<a class="button" href="${withLang(r, opts.printUrl)}">${r.t("verify.printable")}</a>` : ""}
      ${opts.credentialUrl ? html`<a class="button" href="${opts.credentialUrl}" download>${r.t("verify.downloadCredential")}</a>` : ""}
    </div>
  </aside>
</div>`;
  return page({
    title: r.t("verify.pageTitle", { headline, title: localizedText(r, title) }),
    section: r.t("verify.section"),
    body,
    footer: r.t("verify.footer"),
    reader: opts.reader,
  });
}

/**
 * A check's reason in the reader's language, from what core exposes as codes: the check's name and result and the
 * chain's status. Core's own sentence (English, with the digests and addresses compared) is kept: as the reason
 * itself for English readers, and as a technical detail for the others.
 */
function reasonOf(r: Reader, check: Check, chain: ChainFacts | undefined): Html {
  const detail = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  if (r.locale === "en") return html`<span class="reason">${detail(check.reason)}</span>`;
  return html`<span class="reason">${checkReason(r, check, chain)}</span>
        <details class="detail"><summary>${r.t("verify.reason.detail")}</summary><span lang="en">${detail(check.reason)}</span></details>`;
}

/**
 * The holder's name is personal data: shown only when disclosed (the holder's link, or a collection that publishes
 * names) and checked against the salted digest in the certificate, which is all the public document holds.
 */
function recipientLine(r: Reader, c: CertificateSummary): Html | "" {
  switch (c.recipientNameStatus) {
    case "PUBLIC":
      return html`<p class="recipient">${tHtml(r, "verify.awardedTo", { name: c.recipientName ?? "" })}</p>`;
    case "MATCHES":
      return html`<p class="recipient">${tHtml(r, "verify.recipientMatches", { name: c.recipientName ?? "" })}</p>`;
    case "DOES_NOT_MATCH":
      return html`<p class="recipient">${r.t("verify.recipientMismatch")}</p>`;
    case "NOT_DISCLOSED":
      return html`<p class="recipient">${r.t("verify.recipientNotDisclosed")}</p>`;
    default:
      return "";
  }
}

function personalNote(r: Reader, c: CertificateSummary, name: string, value: Localizable): Html | string {
  // A personal value is one string (it is committed to); a value in several languages is shown in the reader's.
  if (typeof value !== "string") return localized(r, value);
  return c.personal?.some((p) => p.name === name && p.status === "MATCHES") ? tHtml(r, "verify.personalMatches", { value }) : value;
}

export function renderNotFoundPage(id: string, reader?: Reader): string {
  const r = reader ?? readerFor("en");
  return page({
    title: r.t("layout.pageTitle", { title: r.t("verify.notFound.title") }),
    section: r.t("verify.section"),
    reader,
    body: html`<h1>${r.t("verify.notFound.title")}</h1>
<section class="verdict invalid" role="status"><span class="mark" aria-hidden="true">✗</span>
<div><p class="headline">${r.t("verify.notFound.headline")}</p><p>${tHtml(r, "verify.notFound.explain", { id })}</p></div></section>
${lookupForm(r)}`,
  });
}

export function renderLookupPage(reader?: Reader): string {
  const r = reader ?? readerFor("en");
  return page({
    title: r.t("layout.pageTitle", { title: r.t("verify.lookup.title") }),
    section: r.t("verify.section"),
    style: UPLOAD_STYLE,
    reader,
    body: html`<h1>${r.t("verify.lookup.title")}</h1>
<p>${r.t("verify.lookup.intro")}</p>
${lookupForm(r)}
${uploadSection(r)}`,
  });
}

function lookupForm(r: Reader): Html {
  return html`<form class="lookup" method="get" action="/verify">
  <div><label for="ref">${r.t("verify.lookup.label")}</label>
  <input id="ref" name="id" required autocomplete="off" spellcheck="false" aria-describedby="ref-help"></div>
  ${r.locale === "en" ? "" : html`<input type="hidden" name="lang" value="${r.locale}">`}
  <button class="button primary" type="submit">${r.t("verify.lookup.button")}</button>
  <p id="ref-help" class="note" style="flex-basis:100%">${tHtml(r, "verify.lookup.help")}</p>
</form>`;
}

/** A link to another of these pages, in the reader's language when it is not the default one. */
export function withLang(r: Reader, url: string): string {
  if (r.locale === "en") return url;
  const u = new URL(url, "http://page.invalid");
  u.searchParams.set("lang", r.locale);
  return url.startsWith("/") ? `${u.pathname}${u.search}${u.hash}` : u.toString();
}

function chainSection(r: Reader, chain: ChainFacts): Html {
  return html`<h2 id="chain-heading">${r.t("verify.chain")}</h2>
<dl class="facts" aria-labelledby="chain-heading">
  ${fact(r.t("verify.chain.status"), chain.status ? statusWords(r, chain) : undefined)}
  ${fact(r.t("verify.chain.network"), r.t("verify.chain.chainId", { id: String(chain.chainId) }))}
  ${fact(r.t("verify.chain.contract"), html`<span class="mono">${chain.contract}</span>`)}
  ${fact(r.t("verify.chain.tokenId"), chain.tokenId)}
  ${fact(r.t("verify.chain.holder"), chain.owner ? html`<span class="mono">${chain.owner}</span>` : undefined)}
  ${fact(r.t("verify.field.issued"), chain.issuedAt ? date(r, chain.issuedAt) : undefined)}
  ${fact(r.t("verify.field.validUntil"), chain.validUntil ? date(r, chain.validUntil) : chain.issuedAt ? r.t("verify.noExpiry") : undefined)}
  ${fact(r.t("verify.chain.tx"), chain.txHash ? html`<span class="mono">${chain.txHash}</span>` : undefined)}
  ${fact(r.t("verify.chain.block"), chain.blockNumber)}
  ${fact(r.t("verify.chain.document"), chain.metadataUri ? documentLink(chain.metadataUri) : undefined)}
  ${fact(r.t("verify.chain.digest"), chain.digest ? html`<span class="mono">${chain.digest}</span>` : undefined)}
</dl>`;
}

function statusWords(r: Reader, chain: ChainFacts): string {
  switch (chain.status) {
    case "VALID":
    case "EXPIRED":
    case "SUPERSEDED":
    case "SUSPENDED":
      return r.t(`verify.status.${chain.status}`);
    case "REVOKED":
      return r.t("verify.status.REVOKED", { reason: r.t(`verify.revocation.${chain.revocationReason ?? "UNSPECIFIED"}`) });
    default:
      return r.t("verify.status.UNKNOWN");
  }
}

function documentLink(uri: string): Html {
  const cid = uri.replace(/^ipfs:\/\//, "");
  return uri === cid ? html`<span class="mono">${uri}</span>` : html`<a class="mono" href="/ipfs/${cid}">${uri}</a>`;
}

function fact(label: string, value: string | number | Html | undefined): Html | "" {
  return value === undefined || value === "" ? "" : html`<dt>${label}</dt><dd>${value}</dd>`;
}

function date(r: Reader, iso: string): Html {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? html`${iso}` : html`<time datetime="${d.toISOString()}">${r.date(d, { time: true })}</time>`;
}
