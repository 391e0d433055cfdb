import type { HeldItem } from "../../core/editions/index.ts";
import type { VerificationResult } from "../../core/verification/index.ts";
import type { Localizable } from "../../core/i18n/language-map.ts";
import { html, raw } from "./html.ts";
import { page } from "./layout.ts";
import { localized, localizedText, readerFor, tHtml, type Reader } from "./reader.ts";
import { withLang } from "./verify-page.ts";

export interface HeldCertificate {
  id: string;
  result: VerificationResult;
  /** The holder's own link token: their pages show their name, checked against the certificate. */
  share?: string;
}

const BADGES = { VALID: "valid", INVALID: "invalid", UNKNOWN: "unknown" } as const;

const STYLE = `
ul.held { list-style: none; padding: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 19rem), 1fr)); }
ul.held li { border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; display: flex; flex-direction: column; gap: .35rem; }
ul.held h3 { margin: 0; font-size: 1.1rem; }
ul.held p { margin: 0; color: var(--muted); }
.badge { align-self: flex-start; font-weight: 700; border: 2px solid; border-radius: 1rem; padding: .05rem .6rem; }
.badge.valid { color: var(--ok); background: var(--ok-bg); } .badge.invalid { color: var(--bad); background: var(--bad-bg); } .badge.unknown { color: var(--unk); background: var(--unk-bg); }
ul.held .actions { margin: .5rem 0 0; }
ul.held img { width: 100%; aspect-ratio: 4 / 3; object-fit: cover; border-radius: .35rem; background: var(--line); }
`;

/** Runs in the holder's browser: asks their wallet (EIP-1193) to sign the server's EIP-4361 message. */
export const SIGN_IN_SCRIPT = `
document.getElementById("siwe").addEventListener("click", async () => {
  // The page's messages in its reader's language (a data block: this script stays the one the CSP hash allows).
  const T = JSON.parse(document.getElementById("siwe-messages").textContent);
  const status = document.getElementById("siwe-status");
  const fail = (text) => { status.textContent = text; };
  if (!window.ethereum) return fail(T.noWallet);
  try {
    status.textContent = T.waiting;
    const [address] = await window.ethereum.request({ method: "eth_requestAccounts" });
    const post = async (url, body) => {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const json = await res.json();
      if (!res.ok) throw new Error(json.error.message);
      return json;
    };
    const { message, nonce } = await post("/holder/sign-in/message", { address });
    const hex = "0x" + Array.from(new TextEncoder().encode(message), (b) => b.toString(16).padStart(2, "0")).join("");
    const signature = await window.ethereum.request({ method: "personal_sign", params: [hex, address] });
    await post("/holder/sign-in", { nonce, signature });
    location.reload();
  } catch (err) {
    fail(T.failed.replace("{error}", err && err.message ? err.message : String(err)));
  }
});`;

export function renderSignInPage(reader?: Reader): string {
  const r = reader ?? readerFor("en");
  const messages = { noWallet: r.t("holder.noWallet"), waiting: r.t("holder.waiting"), failed: r.t("holder.signInFailed", { error: "{error}" }) };
  return page({
    title: r.t("layout.pageTitle", { title: r.t("holder.title") }),
    section: r.t("holder.section"),
    reader,
    body: html`<h1>${r.t("holder.title")}</h1>
<p>${r.t("holder.signInIntro")}</p>
<div class="actions"><button type="button" class="button primary" id="siwe">${r.t("holder.signIn")}</button></div>
<p id="siwe-status" role="status" aria-live="polite"></p>
<script type="application/json" id="siwe-messages">${raw(JSON.stringify(messages).replace(/</g, "\\u003c"))}</script>
<script>${raw(SIGN_IN_SCRIPT)}</script>`,
  });
}

function renderCollectibles(r: Reader, items: HeldItem[] | undefined) {
  if (!items) return html`<p>${r.t("holder.collectiblesUnread")}</p>`;
  if (!items.length) return html`<p>${r.t("holder.noCollectibles")}</p>`;
  return html`<ul class="held" aria-labelledby="collectibles-heading">${items.map(
    (item) => html`<li>
  ${item.imageCid ? html`<img src="/ipfs/${item.imageCid}" alt="${localizedText(r, item.imageLabel ?? item.editionName)}" loading="lazy">` : ""}
  <h3>${localized(r, item.editionName)} <span style="white-space:nowrap">#${String(item.serial)} / ${String(item.maxSupply)}</span></h3>
  <p>${r.t("holder.heldByYou")}</p>
  <div class="actions"><a class="button" href="${withLang(r, `/gallery/${item.contract}/${item.editionId.toString()}`)}">${tHtml(r, "holder.gallery", { name: localizedText(r, item.editionName) })}</a></div>
</li>`,
  )}</ul>`;
}

export function renderHolderPage(address: string, held: HeldCertificate[], collectibles: HeldItem[] | undefined = [], reader?: Reader): string {
  const r = reader ?? readerFor("en");
  return page({
    title: r.t("layout.pageTitle", { title: r.t("holder.title") }),
    section: r.t("holder.section"),
    style: STYLE,
    reader,
    body: html`<h1>${r.t("holder.title")}</h1>
<p>${tHtml(r, "holder.signedInAs", { address })}</p>
<form method="post" action="/holder/sign-out"><button class="button" type="submit">${r.t("holder.signOut")}</button></form>
<h2 id="held-heading">${r.t("holder.certificates", { count: held.length })}</h2>
${
  held.length
    ? html`<ul class="held" aria-labelledby="held-heading">${held.map(({ id, result, share }) => {
        const c = result.certificate;
        const title: Localizable = c.title ?? r.t("verify.defaultTitle");
        const q = (path: string) => withLang(r, share ? `${path}?share=${encodeURIComponent(share)}` : path);
        return html`<li>
  <h3>${localized(r, title)}</h3>
  ${c.recipientName ? html`<p>${r.t(c.recipientNameStatus === "MATCHES" ? "holder.recipientMatches" : "holder.recipient", { name: c.recipientName })}</p>` : ""}
  <p>${c.issuedAt ? tHtml(r, "holder.issuedBy", { issuer: c.issuerName ?? "", date: html`<time style="white-space:nowrap" datetime="${c.issuedAt}">${r.date(c.issuedAt)}</time>` }) : (c.issuerName ?? "")}</p>
  <span class="badge ${BADGES[result.verdict]}">${r.t(`holder.badge.${result.verdict}`)}</span>
  <div class="actions">
    <a class="button" href="${q(`/verify/${id}`)}">${tHtml(r, "holder.verification", { title: localizedText(r, title) })}</a>
    ${result.verdict === "VALID" ? html`<a class="button" href="${q(`/certificates/${id}/print`)}">${r.t("holder.print")}</a><a class="button" href="/certificates/${id}/credential${share ? `?share=${encodeURIComponent(share)}` : ""}" download>${r.t("holder.download")}</a>` : ""}
  </div>
</li>`;
      })}</ul>`
    : html`<p>${r.t("holder.none")}</p>`
}
<h2 id="collectibles-heading">${collectibles ? r.t("holder.collectiblesCount", { count: collectibles.length }) : r.t("holder.collectibles")}</h2>
${renderCollectibles(r, collectibles)}`,
  });
}
