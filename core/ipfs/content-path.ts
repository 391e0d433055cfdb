import type { CID } from "multiformats/cid";
import { parseCid } from "./cid.ts";

/** `<cid>` or `<cid>/<path inside a UnixFS directory>`, as in `/ipfs/<cid>/images/front.png`. */
export interface ContentPath {
  cid: CID;
  /** Path segments below the root, joined by "/"; absent for the root itself. */
  path?: string;
}

/**
 * Splits a content path. Segments are decoded once and must be plain names: "." and ".." mean nothing inside
 * immutable content, and refusing them keeps a path from ever looking like it climbs out of its root.
 */
export function parseContentPath(value: string): ContentPath {
  const [root, ...rest] = value.replace(/^\/?(ipfs\/)?/, "").split("/");
  const cid = parseCid(root ?? "");
  const segments = rest.filter((s, i) => s !== "" || i !== rest.length - 1); // a trailing slash is allowed
  for (const s of segments) {
    if (s === "" || s === "." || s === ".." || s.includes("\0")) throw new TypeError(`Invalid path segment "${s}" in "${value}"`);
  }
  return segments.length ? { cid, path: segments.join("/") } : { cid };
}
