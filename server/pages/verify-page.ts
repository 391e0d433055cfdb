import type { CertificateSummary, Check, ChainFacts, DisclosureStatus, VerificationResult, Verdict } from "../../core/verification/index.ts";
import { html, type Html } from "./html.ts";
import { page } from "./layout.ts";
import { qrCode } from "./qr.ts";
import { UPLOAD_STYLE, uploadSection } from "./verify-upload.ts";

const VERDICTS: Record<Verdict, { css: string; mark: string; headline: string; explain: string }> = {
  VALID: {
    css: "valid",
    mark: "✓",
    headline: "Valid certificate",
    explain: "This certificate is genuine and current: its document is unaltered, it was issued on chain and has not been revoked or expired.",
  },
  INVALID: {
    css: "invalid",
    mark: "✗",
    headline: "Not valid",
    explain: "Do not accept this certificate: at least one check below failed.",
  },
  UNKNOWN: {
    css: "unknown",
    mark: "?",
    headline: "Could not be verified",
    explain: "Not every check could be completed, so this certificate can be neither confirmed nor rejected right now. Try again later.",
  },
};

const CHECK_NAMES: Record<Check["name"], string> = {
  integrity: "Document integrity",
  status: "Status on chain",
  issuer: "Issuer identity",
  signature: "Credential signature",
};
const CHECK_RESULTS: Record<Check["result"], string> = { valid: "✓ Passed", invalid: "✗ Failed", skipped: "– Not checked" };

export async function renderVerifyPage(result: VerificationResult, opts: { verifyUrl: string; credentialUrl?: string; printUrl?: string }): Promise<string> {
  const v = VERDICTS[result.verdict];
  const c = result.certificate;
  const title = c.title ?? "Certificate";
  const trusted = result.checks.some((check) => check.name === "integrity" && check.result === "valid");
  const body = html`
<p class="note">Certificate verification</p>
<h1>${title}</h1>
<section class="verdict ${v.css}" role="status" aria-labelledby="verdict-headline">
  <span class="mark" aria-hidden="true">${v.mark}</span>
  <div><p class="headline" id="verdict-headline">${v.headline}</p><p>${v.explain}</p></div>
</section>
<div class="layout">
  <div>
    <section class="certificate" aria-labelledby="cert-heading">
      <h2 id="cert-heading" style="margin-top:0">${trusted ? "What the certificate states" : "What the document claims (not confirmed)"}</h2>
      ${trusted || !c.title ? "" : html`<p class="note">These fields could not be matched to what the issuer recorded on chain; do not rely on them.</p>`}
      ${recipientLine(c)}
      ${c.title ? "" : html`<p class="note">The certificate's document could not be read, so its fields are not shown.</p>`}
      <dl class="facts">
        ${fact("Title", c.title)}
        ${fact("Description", c.description)}
        ${fact("Issued by", c.issuerName)}
        ${fact("Collection", c.collectionName)}
        ${fact("Issued", c.issuedAt ? date(c.issuedAt) : undefined)}
        ${fact("Valid until", c.validUntil ? date(c.validUntil) : c.issuedAt ? "No expiry" : undefined)}
        ${c.attributes.map((a) => fact(a.name, personalNote(c, a.name, a.value)))}
        ${(c.personal ?? []).filter((p) => p.status !== "MATCHES").map((p) => fact(p.name, DISCLOSURE_WORDS[p.status]))}
        ${fact("Holder address", c.recipientAddress ? html`<span class="mono">${c.recipientAddress}</span>` : undefined)}
      </dl>
    </section>
    <h2 id="checks-heading">Checks</h2>
    <ul class="checks" aria-labelledby="checks-heading">
      ${result.checks.map(
        (check) => html`<li class="${check.result}"><span class="name">${CHECK_NAMES[check.name]}:</span> <span class="result">${CHECK_RESULTS[check.result]}</span>
        <span class="reason">${capitalize(check.reason)}</span></li>`,
      )}
    </ul>
    ${result.chain ? chainSection(result.chain) : ""}
    <p class="note">Checked ${date(result.checkedAt)}.</p>
  </div>
  <aside aria-label="Verification link">
    ${await qrCode(opts.verifyUrl, `Scan to verify: ${opts.verifyUrl}`)}
    <div class="actions">
      <button type="button" class="button primary" onclick="window.print()">Print this check</button>
      ${opts.printUrl ? html`<a class="button" href="${opts.printUrl}">Printable certificate</a>` : ""}
      ${opts.credentialUrl ? html`<a class="button" href="${opts.credentialUrl}" download>Download credential (Open Badges 3.0)</a>` : ""}
    </div>
  </aside>
</div>`;
  return page({
    title: `${v.headline}: ${title} · Hallmark`,
    section: "Certificate verification",
    body,
    footer: "Checked against the blockchain and IPFS directly: Hallmark's own records are used only to find the certificate on chain.",
  });
}

const DISCLOSURE_WORDS: Record<DisclosureStatus, string> = {
  PUBLIC: "",
  MATCHES: "matches the certificate",
  DOES_NOT_MATCH: "does not match the certificate: what was given is not shown",
  NOT_DISCLOSED: "not disclosed",
};

/**
 * The holder's name is personal data: shown only when disclosed (the holder's link, or a collection that publishes
 * names) and checked against the salted digest in the certificate, which is all the public document holds.
 */
function recipientLine(c: CertificateSummary): Html | "" {
  switch (c.recipientNameStatus) {
    case "PUBLIC":
      return html`<p class="recipient">Awarded to <strong>${c.recipientName}</strong></p>`;
    case "MATCHES":
      return html`<p class="recipient">Recipient: <strong>${c.recipientName}</strong> (${DISCLOSURE_WORDS.MATCHES})</p>`;
    case "DOES_NOT_MATCH":
      return html`<p class="recipient">Recipient: the name given ${DISCLOSURE_WORDS.DOES_NOT_MATCH}</p>`;
    case "NOT_DISCLOSED":
      return html`<p class="recipient">Recipient: ${DISCLOSURE_WORDS.NOT_DISCLOSED}</p>`;
    default:
      return "";
  }
}

function personalNote(c: CertificateSummary, name: string, value: string): Html | string {
  return c.personal?.some((p) => p.name === name && p.status === "MATCHES") ? html`${value} <span class="note">(${DISCLOSURE_WORDS.MATCHES})</span>` : value;
}

export function renderNotFoundPage(id: string): string {
  return page({
    title: "No such certificate · Hallmark",
    section: "Certificate verification",
    body: html`<h1>No such certificate</h1>
<section class="verdict invalid" role="status"><span class="mark" aria-hidden="true">✗</span>
<div><p class="headline">Not found</p><p>No certificate is known by the reference <code>${id}</code>. Check the link or the code you scanned.</p></div></section>
${lookupForm()}`,
  });
}

export function renderLookupPage(): string {
  return page({
    title: "Verify a certificate · Hallmark",
    section: "Certificate verification",
    style: UPLOAD_STYLE,
    body: html`<h1>Verify a certificate</h1>
<p>Scan the QR code printed on the certificate, or enter its reference below.</p>
${lookupForm()}
${uploadSection()}`,
  });
}

function lookupForm(): Html {
  return html`<form class="lookup" method="get" action="/verify">
  <div><label for="ref">Certificate reference</label>
  <input id="ref" name="id" required autocomplete="off" spellcheck="false" aria-describedby="ref-help"></div>
  <button class="button primary" type="submit">Verify</button>
  <p id="ref-help" class="note" style="flex-basis:100%">A certificate id, or <code>chainId:contract:tokenId</code>.</p>
</form>`;
}

function chainSection(chain: ChainFacts): Html {
  return html`<h2 id="chain-heading">On the blockchain</h2>
<dl class="facts" aria-labelledby="chain-heading">
  ${fact("Status", chain.status ? statusWords(chain) : undefined)}
  ${fact("Network", `chain id ${chain.chainId}`)}
  ${fact("Registry contract", html`<span class="mono">${chain.contract}</span>`)}
  ${fact("Token id", chain.tokenId)}
  ${fact("Holder", chain.owner ? html`<span class="mono">${chain.owner}</span>` : undefined)}
  ${fact("Issued", chain.issuedAt ? date(chain.issuedAt) : undefined)}
  ${fact("Valid until", chain.validUntil ? date(chain.validUntil) : chain.issuedAt ? "No expiry" : undefined)}
  ${fact("Issuing transaction", chain.txHash ? html`<span class="mono">${chain.txHash}</span>` : undefined)}
  ${fact("Block", chain.blockNumber)}
  ${fact("Document", chain.metadataUri ? documentLink(chain.metadataUri) : undefined)}
  ${fact("Content digest", chain.digest ? html`<span class="mono">${chain.digest}</span>` : undefined)}
</dl>`;
}

function statusWords(chain: ChainFacts): string {
  switch (chain.status) {
    case "VALID": return "Valid";
    case "REVOKED": return `Revoked (${(chain.revocationReason ?? "UNSPECIFIED").toLowerCase().replace(/_/g, " ")})`;
    case "EXPIRED": return "Expired";
    case "SUPERSEDED": return "Superseded";
    case "SUSPENDED": return "Suspended";
    default: return "Never issued";
  }
}

function documentLink(uri: string): Html {
  const cid = uri.replace(/^ipfs:\/\//, "");
  return uri === cid ? html`<span class="mono">${uri}</span>` : html`<a class="mono" href="/ipfs/${cid}">${uri}</a>`;
}

function fact(label: string, value: string | number | Html | undefined): Html | "" {
  return value === undefined || value === "" ? "" : html`<dt>${label}</dt><dd>${value}</dd>`;
}

const DATE = new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeStyle: "short", timeZone: "UTC" });

function date(iso: string): Html {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? html`${iso}` : html`<time datetime="${d.toISOString()}">${DATE.format(d)} UTC</time>`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
