import { Router, type Request, type Response } from "express";
import { CID } from "multiformats/cid";
import type { IpfsStore } from "../core/ipfs/index.ts";

/** Content types by leading bytes: the gateway serves what was pinned, never trusting a stored label. */
function sniff(head: Uint8Array): string {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return "image/png";
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (starts(0x52, 0x49, 0x46, 0x46) && head[8] === 0x57 && head[9] === 0x45) return "image/webp";
  if (starts(0x25, 0x50, 0x44, 0x46)) return "application/pdf";
  const text = new TextDecoder("utf-8", { fatal: false }).decode(head.subarray(0, 512)).trimStart();
  if (text.startsWith("{") || text.startsWith("[")) return "application/json";
  if (text.startsWith("<svg") || (text.startsWith("<?xml") && text.includes("<svg"))) return "image/svg+xml";
  return "application/octet-stream";
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

/** `GET /ipfs/<cid>`: the exact pinned bytes, cacheable forever since a CID names immutable content. */
export function ipfsGateway(ipfs: IpfsStore): Router {
  const router = Router();
  router.get("/ipfs/:cid", async (req: Request, res: Response) => {
    let cid: CID;
    try {
      cid = CID.parse(String(req.params.cid));
    } catch {
      res.status(400).type("text/plain").send("invalid CID");
      return;
    }
    const key = cid.toString();
    if (req.headers["if-none-match"] === `"${key}"`) {
      res.status(304).end();
      return;
    }
    if (!(await ipfs.has(key))) {
      res.status(404).type("text/plain").send("not found");
      return;
    }
    const size = await ipfs.size(key);
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
      "Content-Type": sniff(head),
      "Cache-Control": "public, max-age=31536000, immutable",
      ETag: `"${key}"`,
      "Accept-Ranges": "bytes",
      "X-Content-Type-Options": "nosniff",
      "X-Ipfs-Path": `/ipfs/${key}`,
    });
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
  });
  return router;
}
