import { html, raw, type Html } from "./html.ts";
import { languageSwitcher, readerFor, type Reader } from "./reader.ts";

/**
 * One stylesheet, inline: pages work offline and behind strict firewalls, with the reader's system fonts.
 * Colours meet WCAG 2.2 AA (4.5:1 for text); every state is also spelled out in words and symbols.
 */
const STYLE = `
:root { --ink:#1b1f24; --muted:#4a5360; --paper:#ffffff; --panel:#f5f6f8; --line:#d5d9e0; --link:#0a4fa3;
  --ok:#0b5d1e; --ok-bg:#e7f4ea; --bad:#a1121b; --bad-bg:#fcebec; --unk:#6b4500; --unk-bg:#fdf3dc; --focus:#ffbf47; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, sans-serif;
  color: var(--ink); background: var(--paper); line-height: 1.5; -webkit-text-size-adjust: 100%; }
body { margin: 0; }
html:lang(zh), [lang|="zh"] { font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", system-ui, sans-serif; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; box-shadow: 0 0 0 5px var(--ink); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
.skip:focus { left: 1rem; z-index: 10; }
header.site { border-bottom: 1px solid var(--line); padding: .75rem 1.25rem; display: flex; align-items: baseline; gap: .75rem; flex-wrap: wrap; }
header.site .brand { font-weight: 700; font-size: 1.1rem; color: var(--ink); text-decoration: none; letter-spacing: .02em; }
header.site .section { color: var(--muted); }
header.site nav.languages { margin-left: auto; font-size: .95rem; }
header.site nav.languages [aria-current] { font-weight: 700; }
main { max-width: 64rem; margin: 0 auto; padding: 1.25rem; }
h1 { font-size: clamp(1.5rem, 1.1rem + 1.6vw, 2.2rem); line-height: 1.2; margin: .25rem 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; }
.verdict { display: flex; gap: 1rem; align-items: flex-start; border: 2px solid; border-radius: .5rem; padding: 1rem 1.25rem; margin: 1rem 0 1.5rem; }
.verdict .mark { font-size: 2rem; line-height: 1; font-weight: 700; flex: none; width: 2.5rem; height: 2.5rem; border-radius: 50%;
  display: grid; place-items: center; color: var(--paper); }
.verdict p { margin: .25rem 0 0; }
.verdict .headline { font-size: 1.35rem; font-weight: 700; margin: 0; }
.verdict.valid { border-color: var(--ok); background: var(--ok-bg); } .verdict.valid .mark { background: var(--ok); }
.verdict.invalid { border-color: var(--bad); background: var(--bad-bg); } .verdict.invalid .mark { background: var(--bad); }
.verdict.unknown { border-color: var(--unk); background: var(--unk-bg); } .verdict.unknown .mark { background: var(--unk); }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 14rem; gap: 2rem; align-items: start; }
@media (max-width: 44rem) { .layout { grid-template-columns: minmax(0, 1fr); } }
dl.facts { display: grid; grid-template-columns: minmax(8rem, max-content) minmax(0, 1fr); gap: .4rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 30rem) { dl.facts { grid-template-columns: minmax(0, 1fr); } dl.facts dd { margin-bottom: .5rem; } }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: .9em; }
ul.checks { list-style: none; padding: 0; margin: 0; display: grid; gap: .5rem; }
ul.checks li { border: 1px solid var(--line); border-left-width: .4rem; border-radius: .375rem; padding: .6rem .9rem; background: var(--panel); }
ul.checks li.valid { border-left-color: var(--ok); } ul.checks li.invalid { border-left-color: var(--bad); } ul.checks li.skipped { border-left-color: var(--unk); }
ul.checks .name { font-weight: 700; }
ul.checks .result { font-weight: 700; }
ul.checks li.valid .result { color: var(--ok); } ul.checks li.invalid .result { color: var(--bad); } ul.checks li.skipped .result { color: var(--unk); }
ul.checks .reason { display: block; color: var(--muted); overflow-wrap: anywhere; }
.certificate { border: 1px solid var(--line); border-radius: .5rem; padding: 1.25rem; }
.certificate .title { font-size: 1.4rem; font-weight: 700; margin: 0 0 .25rem; }
.certificate .recipient { font-size: 1.15rem; margin: 0 0 1rem; }
.note { color: var(--muted); font-size: .95rem; }
figure.qr { margin: 0; text-align: center; }
figure.qr svg { width: 100%; max-width: 14rem; height: auto; display: block; margin: 0 auto; }
figure.qr figcaption { font-size: .8rem; color: var(--muted); overflow-wrap: anywhere; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; margin: 1rem 0; }
.button { display: inline-block; padding: .55rem 1rem; border-radius: .375rem; border: 1px solid var(--link); color: var(--link); background: var(--paper);
  text-decoration: none; font: inherit; cursor: pointer; min-height: 44px; }
.button.primary { background: var(--link); color: var(--paper); }
form.lookup { display: flex; gap: .5rem; flex-wrap: wrap; align-items: end; }
form.lookup label { display: block; font-weight: 600; }
form.lookup > div { flex: 0 1 32rem; }
form.lookup input { font: inherit; padding: .5rem; width: 100%; border: 1px solid var(--muted); border-radius: .375rem; min-height: 44px; }
footer.site { max-width: 64rem; margin: 2rem auto; padding: 0 1.25rem; color: var(--muted); font-size: .85rem; }
@media print {
  @page { margin: 14mm; }
  html { font-size: 11pt; }
  header.site, nav.languages, .actions, .skip, form.lookup, details.raw { display: none !important; }
  main { max-width: none; padding: 0; }
  .layout { grid-template-columns: minmax(0, 1fr) 45mm; }
  .verdict, ul.checks li { break-inside: avoid; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: var(--ink); text-decoration: none; }
  figure.qr svg { max-width: 45mm; }
}
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
`;

/** A whole page in the reader's language (English when no reader is given), with a switcher to the others. */
export function page(opts: { title: string; section: string; body: Html; footer?: string; style?: string; reader?: Reader }): string {
  const reader = opts.reader ?? readerFor("en");
  return `<!doctype html>\n${html`<html lang="${reader.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${opts.title}</title>
<style>${raw(STYLE + (opts.style ?? ""))}</style>
</head>
<body>
<a class="skip" href="#content">${reader.t("layout.skip")}</a>
<header class="site"><a class="brand" href="/verify">${reader.t("layout.brand")}</a><span class="section">${opts.section}</span>${opts.reader ? languageSwitcher(opts.reader) : ""}</header>
<main id="content">
${opts.body}
</main>
${opts.footer ? html`<footer class="site">${opts.footer}</footer>` : ""}
</body>
</html>`.value}`;
}
