import QRCode from "qrcode";
import { html, raw, type Html } from "./html.ts";

/**
 * An inline SVG QR code: sharp at any print size and no request of its own. Error correction M survives a crease or
 * a smudge on paper while keeping modules large enough for phone cameras.
 */
export async function qrCode(text: string, label: string): Promise<Html> {
  const svg = await QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 4, color: { dark: "#000000", light: "#ffffff" } });
  return html`<figure class="qr">${raw(svg.replace("<svg ", `<svg role="img" aria-label="${label.replace(/"/g, "&quot;")}" `))}<figcaption>${label}</figcaption></figure>`;
}
