import type { HeldItem } from "../../core/editions/index.ts";
import type { Localizable } from "../../core/i18n/language-map.ts";
import type { VerificationResult } from "../../core/verification/index.ts";
import { html, raw, type Html } from "./html.ts";
import { page } from "./layout.ts";
import { localized, localizedText, tHtml, type Reader } from "./reader.ts";
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

/** Runs in the holder's browser: asks for a code by e-mail, then signs in with it. Its words come from the page. */
export const EMAIL_SIGN_IN_SCRIPT = `
const emailForm = document.getElementById("email-form");
const codeForm = document.getElementById("code-form");
const emailStatus = document.getElementById("email-status");
const postJson = async (url, body) => {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(json.error.message);
  return json;
};
emailForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await postJson("/holder/email/code", { email: emailForm.email.value });
    emailStatus.textContent = emailStatus.dataset.sent;
    codeForm.hidden = false;
    codeForm.code.focus();
  } catch (err) {
    emailStatus.textContent = err.message;
  }
});
codeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await postJson("/holder/email/sign-in", { email: emailForm.email.value, code: codeForm.code.value });
    location.reload();
  } catch (err) {
    emailStatus.textContent = err.message;
  }
});`;

/** Runs in the page of a holder signed in by e-mail: proves a wallet with Sign-In with Ethereum and claims everything to it. */
export const CLAIM_SCRIPT = `
document.getElementById("claim").addEventListener("click", async () => {
  const status = document.getElementById("claim-status");
  const words = status.dataset;
  if (!window.ethereum) { status.textContent = words.noWallet; return; }
  const post = async (url, body) => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(json.error.message);
    return json;
  };
  try {
    status.textContent = words.waiting;
    const [address] = await window.ethereum.request({ method: "eth_requestAccounts" });
    const { message, nonce } = await post("/holder/sign-in/message", { address });
    const hex = "0x" + Array.from(new TextEncoder().encode(message), (b) => b.toString(16).padStart(2, "0")).join("");
    const signature = await window.ethereum.request({ method: "personal_sign", params: [hex, address] });
    const { done } = await post("/holder/claim", { nonce, signature });
    status.textContent = done;
  } catch (err) {
    status.textContent = words.failed + " " + (err && err.message ? err.message : err);
  }
});`;

export function renderSignInPage(reader: Reader, opts: { email: boolean } = { email: false }): string {
  const messages = { noWallet: reader.t("holder.noWallet"), waiting: reader.t("holder.waiting"), failed: reader.t("holder.signInFailed", { error: "{error}" }) };
  return page({
    title: reader.t("layout.pageTitle", { title: reader.t("holder.title") }),
    section: reader.t("holder.section"),
    reader,
    body: html`<h1>${reader.t("holder.title")}</h1>
${
  opts.email
    ? html`<h2>${reader.t("holder.email.heading")}</h2>
<p>${reader.t("holder.email.intro")}</p>
<form id="email-form"><label for="email">${reader.t("holder.email.label")}</label>
<input id="email" name="email" type="email" autocomplete="email" required>
<button type="submit" class="button primary">${reader.t("holder.email.send")}</button></form>
<form id="code-form" hidden><label for="code">${reader.t("holder.email.codeLabel")}</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required>
<button type="submit" class="button primary">${reader.t("holder.email.signIn")}</button></form>
<p id="email-status" role="status" aria-live="polite" data-sent="${reader.t("holder.email.sent")}"></p>
<script>${raw(EMAIL_SIGN_IN_SCRIPT)}</script>
<h2>${reader.t("holder.email.walletHeading")}</h2>`
    : ""
}
<p>${reader.t("holder.signInIntro")}</p>
<div class="actions"><button type="button" class="button primary" id="siwe">${reader.t("holder.signIn")}</button></div>
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

/** The page a wallet's credential offer is shown on: its QR code, its deep link, and the transaction code. */
export function renderOfferPage(reader: Reader, opts: { title: string; uri: string; qr: Html; txCode: string | null; expiresAt: Date }): string {
  return page({
    title: reader.t("layout.pageTitle", { title: reader.t("holder.offer.title") }),
    section: reader.t("holder.section"),
    reader,
    body: html`<h1>${reader.t("holder.offer.heading", { title: opts.title })}</h1>
<p>${reader.t("holder.offer.intro", { expires: reader.date(opts.expiresAt, { time: true }) })}</p>
${opts.qr}
<p><a class="button primary" href="${opts.uri}">${reader.t("holder.offer.open")}</a></p>
${opts.txCode ? html`<p id="tx-code">${tHtml(reader, "holder.offer.txCode", { code: opts.txCode })}</p>` : ""}
<p><a href="${withLang(reader, "/holder")}">${reader.t("holder.offer.back")}</a></p>`,
  });
}

export function renderHolderPage(
  reader: Reader,
  signedInAs: string,
  held: HeldCertificate[],
  collectibles: HeldItem[] | undefined = [],
  opts: { custody?: { claimable: boolean } } = {},
): string {
  return page({
    reader,
    title: reader.t("layout.pageTitle", { title: reader.t("holder.title") }),
    section: reader.t("holder.section"),
    style: STYLE,
    body: html`<h1>${reader.t("holder.title")}</h1>
<p>${tHtml(reader, "holder.signedInAs", { address: signedInAs })}</p>
<form method="post" action="/holder/sign-out"><button class="button" type="submit">${reader.t("holder.signOut")}</button></form>
${
  opts.custody?.claimable
    ? html`<h2>${reader.t("holder.claim.heading")}</h2>
<p>${reader.t("holder.claim.intro")}</p>
<div class="actions"><button type="button" class="button" id="claim">${reader.t("holder.claim.button")}</button></div>
<p id="claim-status" role="status" aria-live="polite" data-no-wallet="${reader.t("holder.claim.noWallet")}" data-waiting="${reader.t("holder.claim.waiting")}" data-failed="${reader.t("holder.claim.failed")}"></p>
<script>${raw(CLAIM_SCRIPT)}</script>`
    : ""
}
<h2 id="held-heading">${reader.t("holder.certificates", { count: held.length })}</h2>
${
  held.length
    ? html`<ul class="held" aria-labelledby="held-heading">${held.map(({ id, result, share }) => {
        const c = result.certificate;
        const r = reader;
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
  ${
    result.verdict === "VALID"
      ? html`<form method="post" action="/holder/credential-offer"><input type="hidden" name="certificateId" value="${id}"><button class="button" type="submit">${r.t("holder.item.addToWallet")}<span class="visually-hidden"> (${localizedText(r, title)})</span></button></form>
  <p>${tHtml(r, "holder.item.share", { a: (chunks) => html`<a class="share" href="${q(`/verify/${id}`)}">${raw(chunks.join(""))}</a>`.value })}</p>`
      : ""
  }
</li>`;
      })}</ul>`
    : html`<p>${reader.t("holder.none")}</p>`
}
<h2 id="collectibles-heading">${collectibles ? reader.t("holder.collectiblesCount", { count: collectibles.length }) : reader.t("holder.collectibles")}</h2>
${renderCollectibles(reader, collectibles)}`,
  });
}
