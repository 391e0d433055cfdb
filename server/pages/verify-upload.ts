import { html, raw, type Html } from "./html.ts";
import { readerFor, type Reader } from "./reader.ts";

/**
 * Runs in the verifier's browser: reads a file they chose or dropped, an anchored certificate (the holder's file) or
 * an exported credential, hashes its certificate document there (canonical JSON, as core/metadata/canonical-json.ts
 * makes it, then SHA-256 through Web Crypto), and asks the server to check only hashes: the digest with the root
 * and proof of an anchored certificate, the digest with the on-chain reference of a credential. The document's
 * fields (the holder's name among them) are shown from the file and never sent. Allowed by its hash in the
 * Content-Security-Policy (server/security/headers.ts), like every script of these pages.
 */
export const UPLOAD_SCRIPT = `
(() => {
  const ANCHORED = "https://hallmark.dev/schemas/anchored-certificate/v1";
  const input = document.getElementById("upload-file");
  const zone = document.getElementById("upload-zone");
  const status = document.getElementById("upload-status");
  const out = document.getElementById("upload-result");
  // The page's messages in its reader's language (a data block, so this script stays the one the CSP hash allows).
  const T = JSON.parse(document.getElementById("upload-messages").textContent);
  const lang = document.documentElement.lang || "en";
  const fill = (message, values) => message.replace(/\\{(\\w+)\\}/g, (_, name) => String(values[name]));
  const canonical = (v) => {
    if (Array.isArray(v)) return "[" + v.map((x) => (x === undefined ? "null" : canonical(x))).join(",") + "]";
    if (v && typeof v === "object") {
      return "{" + Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
    }
    return JSON.stringify(v);
  };
  const sha256 = async (text) => new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  const hex = (bytes) => "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const base64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) if (c != null) node.append(c);
    return node;
  };
  const check = (name, result, reason) => ({ name, result, reason });
  const post = async (url, body) => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((json.error && json.error.message) || String(res.status));
    return json;
  };
  const VERDICTS = {
    VALID: ["valid", "✓", T.verdicts.VALID[0], T.verdicts.VALID[1]],
    INVALID: ["invalid", "✗", T.verdicts.INVALID[0], T.verdicts.INVALID[1]],
    UNKNOWN: ["unknown", "?", T.verdicts.UNKNOWN[0], T.verdicts.UNKNOWN[1]],
  };
  const verdictOf = (checks) => (checks.some((c) => c.result === "invalid") ? "INVALID" : checks.every((c) => c.result === "valid") ? "VALID" : "UNKNOWN");
  const dateFormat = new Intl.DateTimeFormat(lang, { dateStyle: "long", timeZone: "UTC" });
  const date = (iso) => { const d = new Date(iso); return isNaN(d) ? String(iso) : dateFormat.format(d); };
  // Content in several languages is shown in the reader's, else the same language elsewhere, else English, else the first.
  const pick = (map) => {
    const tags = Object.keys(map);
    const primary = (t) => t.toLowerCase().split(/[-_]/)[0];
    const tag = tags.find((t) => t.toLowerCase() === lang.toLowerCase()) || tags.find((t) => primary(t) === primary(lang)) || tags.find((t) => primary(t) === "en") || tags[0];
    return map[tag];
  };
  const text = (v) => (typeof v === "string" ? v : v && typeof v === "object" && "digest" in v ? T.withheld : v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length ? pick(v) : v == null ? "" : String(v));

  function show(verdict, checks, fields, links) {
    const [css, mark, headline, explain] = VERDICTS[verdict];
    const facts = el("dl", { class: "facts" });
    for (const [label, value] of fields) if (value) facts.append(el("dt", {}, label), el("dd", {}, value));
    const list = el("ul", { class: "checks", "aria-label": T.checks });
    for (const c of checks) {
      const detail = c.reason.charAt(0).toUpperCase() + c.reason.slice(1);
      const translated = lang === "en" ? null : T.reasons[c.name + "." + c.result];
      list.append(el("li", { class: c.result }, el("span", { class: "name" }, fill(T.checkName, { name: T.names[c.name] || c.name }) + " "), el("span", { class: "result" }, T.results[c.result] || c.result),
        el("span", { class: "reason" }, translated || detail),
        translated ? el("details", { class: "detail" }, el("summary", {}, T.detail), el("span", { lang: "en" }, detail)) : null));
    }
    const actions = el("div", { class: "actions" });
    for (const [label, href] of links) actions.append(el("a", { class: "button", href }, label));
    out.replaceChildren(
      el("section", { class: "verdict " + css, role: "status", "aria-labelledby": "upload-verdict" }, el("span", { class: "mark", "aria-hidden": "true" }, mark),
        el("div", {}, el("p", { class: "headline", id: "upload-verdict" }, headline), el("p", {}, explain))),
      el("section", { class: "certificate", "aria-labelledby": "upload-fields" }, el("h2", { id: "upload-fields", style: "margin-top:0" }, T.fileStates),
        el("p", { class: "note" }, T.readHere), facts),
      el("h2", {}, T.checks), list, actions);
    status.textContent = "";
  }

  function fieldsOf(doc) {
    const c = (doc && doc.certificate) || {};
    const F = T.fields;
    const rows = [[F.title, text(c.title || doc.name)], [F.recipient, text(c.recipient && c.recipient.name)], [F.holderAddress, text(c.recipient && c.recipient.address)],
      [F.issuedBy, text(c.issuer && c.issuer.name)], [F.collection, text(c.collection && c.collection.name)], [F.issued, c.issuedAt ? date(c.issuedAt) : ""],
      [F.validUntil, c.validUntil ? date(c.validUntil) : F.noExpiry]];
    for (const a of Array.isArray(c.attributes) ? c.attributes : []) rows.push([text(a && a.name), text(a && a.value)]);
    return rows;
  }

  /**
   * The holder's printable copy, built here from their file (their name on it, which never leaves the browser) with
   * the QR code of the certificate's public record by digest, then handed to the browser's print dialog.
   */
  function printable(doc, digest) {
    const c = (doc && doc.certificate) || {};
    const name = text(c.recipient && c.recipient.name);
    const record = location.origin + "/anchored/" + digest;
    const sheet = el("section", { class: "print-sheet", id: "upload-print", "aria-label": T.printable },
      el("p", { class: "issuer" }, text(c.issuer && c.issuer.name)),
      el("p", { class: "kind" }, text(c.collection && c.collection.name)),
      name && name !== T.withheld ? el("p", { class: "certifies" }, T.certifies) : null,
      name && name !== T.withheld ? el("h2", { class: "recipient" }, name) : null,
      el("p", { class: "title" }, text(c.title || doc.name)));
    const attributes = el("dl", { class: "facts" });
    for (const [label, value] of fieldsOf(doc).slice(7)) attributes.append(el("dt", {}, label), el("dd", {}, value));
    const issued = c.issuedAt ? date(c.issuedAt) : "";
    sheet.append(attributes, el("p", { class: "note" }, c.validUntil ? fill(T.issuedUntilLine, { issued, until: date(c.validUntil) }) : fill(T.issuedLine, { issued })),
      el("p", { class: "note" }, fill(T.anchoredLine, { url: record })),
      el("img", { class: "qr", src: "/anchored/" + digest + "/qr.svg", alt: fill(T.qrAlt, { url: record }), width: "160", height: "160" }));
    const old = document.getElementById("upload-print");
    if (old) old.remove();
    document.body.append(sheet);
    return sheet;
  }

  async function anchored(file) {
    const doc = file.document;
    const a = file.anchor;
    const digest = hex(await sha256(canonical(doc)));
    const named = (doc.certificate && doc.certificate.collection) || {};
    const local = [];
    if (String(a.digest).toLowerCase() !== digest) local.push(check("integrity", "invalid", "the document in the file hashes to " + digest + ", not to the digest the file names: it was altered"));
    if (named.chainId !== a.chainId || String(named.contract).toLowerCase() !== String(a.contract).toLowerCase()) {
      local.push(check("integrity", "invalid", "the document names another contract than the one it is anchored in"));
    }
    const result = await post("/verify/anchored", { chainId: a.chainId, contract: a.contract, digest, root: a.root, proof: a.proof });
    const until = doc.certificate && doc.certificate.validUntil;
    if (until) {
      local.push(Date.parse(until) < Date.now() ? check("status", "invalid", "expired on " + date(until)) : check("status", "valid", "the document is valid until " + date(until) + " (read in this browser)"));
    }
    const checks = local.concat(result.checks);
    const verdict = verdictOf(checks);
    const suffix = lang === "en" ? "" : "?lang=" + encodeURIComponent(lang);
    const links = verdict === "VALID" ? [[T.printNoName, "/anchored/" + digest + "/print" + suffix], [T.record, "/anchored/" + digest + suffix]] : [];
    show(verdict, checks, fieldsOf(doc), links);
    if (verdict !== "VALID") return;
    printable(doc, digest);
    const button = el("button", { type: "button", class: "button primary", id: "upload-print-button" }, T.printWithName);
    button.addEventListener("click", () => {
      document.body.classList.add("print-anchored");
      window.print();
    });
    out.querySelector(".actions").prepend(button);
  }

  async function credential(vc) {
    const doc = vc.certificateDocument;
    const bytes = await sha256(canonical(doc));
    const sri = "sha256-" + base64(bytes);
    // The token it is: chainRecord since credentials carry W3C status lists; the credentialStatus of older ones.
    const s = vc.chainRecord || (Array.isArray(vc.credentialStatus) ? {} : vc.credentialStatus) || {};
    const local = [];
    const claimed = (Array.isArray(vc.relatedResource) ? vc.relatedResource : []).map((r) => r && r.digestSRI);
    if (!claimed.includes(sri)) local.push(check("integrity", "invalid", "the credential's document does not hash to the digest the credential names: it was altered"));
    const result = await post("/verify/digest", { reference: s.chainId + ":" + s.registry + ":" + s.tokenId, digest: hex(bytes) });
    const checks = local.concat(result.checks);
    show(verdictOf(checks), checks, fieldsOf(doc), []);
  }

  async function verify(file) {
    out.replaceChildren();
    status.textContent = fill(T.checking, { file: file.name });
    try {
      const json = JSON.parse(await file.text());
      if (json && json.$schema === ANCHORED && json.document && json.anchor) return await anchored(json);
      if (json && json.certificateDocument && (json.chainRecord || json.credentialStatus)) return await credential(json);
      status.textContent = T.neither;
    } catch (err) {
      status.textContent = fill(T.failed, { error: err && err.message ? err.message : err });
    }
  }

  window.addEventListener("afterprint", () => document.body.classList.remove("print-anchored"));
  input.addEventListener("change", () => { if (input.files && input.files[0]) verify(input.files[0]); });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (file) verify(file);
  });
})();`;

export const UPLOAD_STYLE = `
.print-sheet { display: none; }
@media print {
  body.print-anchored > *:not(.print-sheet) { display: none !important; }
  body.print-anchored .print-sheet { display: block; text-align: center; border: 3px double #5b4a1f; padding: 12mm; font-family: Georgia, "DejaVu Serif", serif; }
  .print-sheet .issuer { letter-spacing: .25em; text-transform: uppercase; color: #5b4a1f; }
  .print-sheet .recipient { font-size: 2.2rem; margin: .25rem 0; }
  .print-sheet .title { font-size: 1.6rem; font-weight: 700; }
  .print-sheet dl.facts { display: inline-grid; text-align: left; }
  .print-sheet img.qr { width: 40mm; height: 40mm; }
}
.upload { border: 2px dashed var(--line); border-radius: .5rem; padding: 1.25rem; margin: 1.5rem 0; }
.upload.over { border-color: var(--link); background: var(--panel); }
.upload label { font-weight: 600; display: block; margin-bottom: .5rem; }
.upload input { font: inherit; min-height: 44px; }
`;

/** The messages the upload's script shows, in the reader's language. */
function uploadMessages(r: Reader) {
  const verdict = (v: "VALID" | "INVALID" | "UNKNOWN") => [r.t(`verify.verdict.${v}`), r.t(`verify.verdict.${v}.explain`)];
  const names = ["integrity", "status", "issuer", "signature"] as const;
  const results = ["valid", "invalid", "skipped"] as const;
  return {
    verdicts: { VALID: verdict("VALID"), INVALID: verdict("INVALID"), UNKNOWN: verdict("UNKNOWN") },
    names: Object.fromEntries(names.map((n) => [n, r.t(`verify.check.${n}`)])),
    results: Object.fromEntries(results.map((x) => [x, r.t(`verify.result.${x}`)])),
    reasons: Object.fromEntries(names.flatMap((n) => results.map((x) => [`${n}.${x}`, x === "valid" && n === "status" ? r.t("verify.reason.status.valid", { until: "none" }) : r.t(`verify.reason.${n}.${x}`)]))),
    detail: r.t("verify.reason.detail"),
    checkName: r.t("verify.checkName", { name: "{name}" }),
    checks: r.t("verify.checks"),
    fileStates: r.t("upload.fileStates"),
    readHere: r.t("upload.readHere"),
    withheld: r.t("upload.withheld"),
    fields: {
      title: r.t("verify.field.title"),
      recipient: r.t("upload.recipient"),
      holderAddress: r.t("verify.field.holderAddress"),
      issuedBy: r.t("verify.field.issuedBy"),
      collection: r.t("verify.field.collection"),
      issued: r.t("verify.field.issued"),
      validUntil: r.t("verify.field.validUntil"),
      noExpiry: r.t("verify.noExpiry"),
    },
    printable: r.t("upload.printable"),
    certifies: r.t("upload.certifies"),
    // Filled in the browser: placeholders only, no plural or select.
    issuedLine: r.t("upload.issuedLine", { issued: "{issued}" }),
    issuedUntilLine: r.t("upload.issuedUntilLine", { issued: "{issued}", until: "{until}" }),
    anchoredLine: r.t("upload.anchoredLine", { url: "{url}" }),
    qrAlt: r.t("upload.qrAlt", { url: "{url}" }),
    checking: r.t("upload.checking", { file: "{file}" }),
    failed: r.t("upload.failed", { error: "{error}" }),
    neither: r.t("upload.neither"),
    printNoName: r.t("upload.printNoName"),
    record: r.t("upload.record"),
    printWithName: r.t("upload.printWithName"),
  };
}

/** JSON inside a script element: "<" escaped so no value can close the element. */
function jsonScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/** The upload form: a file input that is also a drop zone, and where the verdict appears. */
export function uploadSection(reader: Reader = readerFor("en")): Html {
  const r = reader;
  return html`<section class="upload" id="upload-zone" aria-labelledby="upload-heading">
  <h2 id="upload-heading" style="margin-top:0">${r.t("upload.heading")}</h2>
  <label for="upload-file">${r.t("upload.label")}</label>
  <input type="file" id="upload-file" accept=".json,application/json,application/ld+json,application/vc">
  <p class="note">${r.t("upload.privacy")}</p>
  <p id="upload-status" role="status" aria-live="polite"></p>
  <div id="upload-result"></div>
</section>
<script type="application/json" id="upload-messages">${raw(jsonScript(uploadMessages(r)))}</script>
<script>${raw(UPLOAD_SCRIPT)}</script>`;
}
