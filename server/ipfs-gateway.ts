import { Router, type Request, type Response } from "express";
import { CID } from "multiformats/cid";
import { readImageHeader } from "../core/editions/image-size.ts";
import { IpfsNotFoundError, type IpfsStore } from "../core/ipfs/index.ts";
import { parseContentPath } from "../core/ipfs/content-path.ts";
import { escapeHtml } from "./pages/html.ts";

/** Content types by leading bytes: the gateway serves what was pinned, never trusting a stored label. */
function sniff(head: Uint8Array): string {
  const image = readImageHeader(head).mediaType;
  if (image) return image;
  if ([0x25, 0x50, 0x44, 0x46].every((b, i) => head[i] === b)) return "application/pdf";
  const text = new TextDecoder("utf-8", { fatal: false }).decode(head.subarray(0, 512)).trimStart();
  if (text.startsWith("{") || text.startsWith("[")) return "application/json";
  if (text.startsWith("<svg") || (text.startsWith("<?xml") && text.includes("<svg"))) return "image/svg+xml";
  return "application/octet-stream";
}

const TYPES_BY_EXTENSION: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  jsonld: "application/ld+json",
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  svg: "image/svg+xml",
  pdf: "application/pdf",
  mp4: "video/mp4",
  webm: "video/webm",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  wav: "audio/wav",
  glb: "model/gltf-binary",
  gltf: "model/gltf+json",
};

const ACTIVE_TYPES = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml)\b/i;

/** A file reached by a path has a name, and its extension says more than its first bytes (CSS, text, video). */
function typeByName(key: string): string | undefined {
  const name = key.includes("/") ? key.slice(key.lastIndexOf("/") + 1) : "";
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1).toLowerCase() : "";
  return TYPES_BY_EXTENSION[ext];
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | "invalid" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "invalid";
  let start: number;
  let end: number;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return "invalid";
  return { start, end };
}

/**
 * `GET /ipfs/<cid>[/<path>]`: the exact pinned bytes, cacheable forever since a CID names immutable content; a
 * directory is listed (or its index.html served), as IPFS gateways do.
 */
export function ipfsGateway(ipfs: IpfsStore): Router {
  const router = Router();
  router.get(["/ipfs/:cid", "/ipfs/:cid/*path"], async (req: Request, res: Response) => {
    let cid: CID;
    let path: string | undefined;
    try {
      cid = CID.parse(String(req.params.cid));
      const segments = (req.params as { path?: string[] }).path ?? [];
      path = parseContentPath([cid.toString(), ...segments].join("/")).path;
    } catch {
      res.status(400).type("text/plain").send("invalid CID or path");
      return;
    }
    const key = path ? `${cid}/${path}` : cid.toString();
    if (req.headers["if-none-match"] === `"${key}"`) {
      res.status(304).end();
      return;
    }
    if (!(await ipfs.has(cid.toString()))) {
      res.status(404).type("text/plain").send("not found");
      return;
    }
    let found: Awaited<ReturnType<IpfsStore["stat"]>>;
    try {
      found = await ipfs.stat(key);
    } catch (err) {
      if (err instanceof IpfsNotFoundError) {
        res.status(404).type("text/plain").send("not found");
        return;
      }
      throw err;
    }
    if (found.type === "directory") {
      if (!req.path.endsWith("/")) {
        // Relative links in a listing or an index.html resolve against the directory only with the slash.
        res.redirect(301, `${req.baseUrl}${req.path}/`);
        return;
      }
      const index = found.entries.find((e) => e.name === "index.html" && e.type === "file");
      if (!index) {
        sendListing(res, `/ipfs/${key}`, found.entries, key);
        return;
      }
      await sendFile(req, res, ipfs, `${key}/index.html`, index.size, `"${key}"`);
      return;
    }
    await sendFile(req, res, ipfs, key, found.size, `"${key}"`);
  });
  return router;
}

function sendListing(res: Response, title: string, entries: { name: string; type: string; size: number }[], key: string): void {
  const rows = entries
    .map((e) => `<li><a href="./${encodeURIComponent(e.name)}${e.type === "directory" ? "/" : ""}">${escapeHtml(e.name)}${e.type === "directory" ? "/" : ""}</a> <span>${e.type === "file" ? `${e.size} bytes` : ""}</span></li>`)
    .join("");
  res
    .status(200)
    .set({ "Cache-Control": "public, max-age=31536000, immutable", ETag: `"${key}"`, "X-Content-Type-Options": "nosniff", "X-Ipfs-Path": title })
    .type("html")
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1><ul>${rows}</ul></main></body></html>`);
}

async function sendFile(req: Request, res: Response, ipfs: IpfsStore, key: string, size: number, etag: string): Promise<void> {
  const range = parseRange(req.headers.range, size);
  if (range === "invalid") {
    res.status(416).set("Content-Range", `bytes */${size}`).end();
    return;
  }
  let head: Uint8Array = new Uint8Array();
  for await (const chunk of ipfs.cat(key, { length: 512 })) {
    head = chunk;
    break;
  }
  res.set({
    "Content-Type": typeByName(key) ?? sniff(head),
    "Cache-Control": "public, max-age=31536000, immutable",
    ETag: etag,
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
    "X-Ipfs-Path": `/ipfs/${key}`,
    // Content shares this origin with the app: a sandbox makes pinned HTML or SVG an opaque origin that runs no
    // script, unable to read the holder's session or call the API as them; it loads nothing from elsewhere either.
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    // Public, content-addressed bytes: viewers on other origins (IIIF viewers drawing onto a canvas) may read them.
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
  });
  // Markup a browser would render as a document is downloaded instead when navigated to: uploaded bytes are never a
  // page of this origin, even in a browser that ignores the sandbox. Images (<img>) are unaffected.
  if (ACTIVE_TYPES.test(String(res.get("Content-Type")))) res.set("Content-Disposition", "attachment");
  const start = range?.start ?? 0;
  const length = range ? range.end - range.start + 1 : size;
  if (range) res.status(206).set("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
  res.set("Content-Length", String(length));
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  for await (const chunk of ipfs.cat(key, { offset: start, length })) {
    if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
  }
  res.end();
}
