import type { ContractIssuer } from "../../core/verification/index.ts";
import { html, type Html } from "./html.ts";
import { tHtml, type Reader } from "./reader.ts";

/**
 * Who issued a gallery's edition, first on the page: the museum the platform's issuer registry binds the contract
 * to (with its domain when proven), or plainly that no registered institution stands behind it. The chain lets anyone
 * create an editions contract, so a gallery must not look official by default.
 */
export function galleryIssuerBlock(issuer: ContractIssuer, reader: Reader): Html {
  if (issuer.kind === "UNREGISTERED") {
    return verdict("invalid", "✗", tHtml(reader, "gallery.issuer.unregistered.headline"), tHtml(reader, "gallery.issuer.unregistered.detail"));
  }
  if (issuer.kind === "UNKNOWN") {
    return verdict("unknown", "?", tHtml(reader, "gallery.issuer.unknown.headline"), tHtml(reader, "gallery.issuer.unknown.detail"));
  }
  if (!issuer.active) {
    return verdict("invalid", "!", tHtml(reader, "gallery.issuer.suspended.headline", { name: issuer.name }), tHtml(reader, "gallery.issuer.suspended.detail"));
  }
  if (issuer.proof.proven) {
    return verdict(
      "valid",
      "✓",
      tHtml(reader, "gallery.issuer.proven.headline", { name: issuer.name }),
      tHtml(reader, "gallery.issuer.proven.detail", { domain: issuer.proof.domain, date: reader.date(issuer.proof.checkedAt) }),
    );
  }
  return verdict("unknown", "?", tHtml(reader, "gallery.issuer.unproven.headline", { name: issuer.name }), tHtml(reader, "gallery.issuer.unproven.detail", { identity: issuer.identity }));
}

function verdict(kind: "valid" | "invalid" | "unknown", mark: string, headline: Html, detail: Html): Html {
  return html`<section class="verdict ${kind}" id="issuer" aria-labelledby="issuer-headline"><span class="mark" aria-hidden="true">${mark}</span>
<div><p class="headline" id="issuer-headline">${headline}</p><p>${detail}</p></div></section>`;
}
