import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEmbeddedIpfs, type IpfsStore } from "../../core/ipfs/index.ts";
import { ipfsGateway } from "../../server/ipfs-gateway.ts";

// The smallest valid PNG: 1×1, one transparent pixel.
const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082", "hex");

describe("IPFS gateway: /ipfs/<cid>[/<path>]", () => {
  let dir: string;
  let ipfs: IpfsStore;
  let base: string;
  let close: () => void;
  let root: string;
  const video = new Uint8Array(Array.from({ length: 100_000 }, (_, i) => i % 251));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-gateway-"));
    ipfs = await openEmbeddedIpfs(dir);
    root = await ipfs.addDirectory([
      { path: "images/front.png", bytes: PNG },
      { path: "media/tour.mp4", bytes: video },
      { path: "notes/readme.txt", bytes: new TextEncoder().encode("A vase, Ming dynasty.") },
      { path: "site/index.html", bytes: new TextEncoder().encode("<!doctype html><title>Vase</title><p>Vase</p>") },
    ]);
    const app = express().use(ipfsGateway(ipfs));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((ok) => server.once("listening", ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(async () => {
    close?.();
    await ipfs?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves a file inside a directory with its content type and immutable caching", async () => {
    const res = await fetch(`${base}/ipfs/${root}/images/front.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("etag")).toBe(`"${root}/images/front.png"`);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG);
    const text = await fetch(`${base}/ipfs/${root}/notes/readme.txt`);
    expect(text.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await text.text()).toBe("A vase, Ming dynasty.");
    expect((await fetch(`${base}/ipfs/${root}/images/front.png`, { headers: { "if-none-match": `"${root}/images/front.png"` } })).status).toBe(304);
  });

  it("answers range requests for media, and 416 for a range past the end", async () => {
    const res = await fetch(`${base}/ipfs/${root}/media/tour.mp4`, { headers: { range: "bytes=1000-1999" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.headers.get("content-range")).toBe(`bytes 1000-1999/${video.length}`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(video.subarray(1000, 2000));
    const tail = await fetch(`${base}/ipfs/${root}/media/tour.mp4`, { headers: { range: "bytes=-10" } });
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(video.subarray(video.length - 10));
    expect((await fetch(`${base}/ipfs/${root}/media/tour.mp4`, { headers: { range: `bytes=${video.length}-` } })).status).toBe(416);
  });

  it("lists a directory, serves its index.html sandboxed and as a download, and redirects to the slash form first", async () => {
    const bare = await fetch(`${base}/ipfs/${root}/images`, { redirect: "manual" });
    expect(bare.status).toBe(301);
    expect(bare.headers.get("location")).toBe(`/ipfs/${root}/images/`);
    const listing = await fetch(`${base}/ipfs/${root}/images/`);
    expect(listing.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await listing.text()).toContain('<a href="./front.png">front.png</a>');
    const site = await fetch(`${base}/ipfs/${root}/site/`);
    expect(await site.text()).toContain("<p>Vase</p>");
    // Sandboxed and loading nothing from elsewhere; and downloaded rather than shown as a page of this origin.
    expect(site.headers.get("content-security-policy")).toMatch(/^sandbox; default-src 'none';/);
    expect(site.headers.get("content-disposition")).toBe("attachment");
    expect(site.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("refuses malformed paths with 400 and absent ones with 404", async () => {
    expect((await fetch(`${base}/ipfs/${root}/images/back.png`)).status).toBe(404);
    expect((await fetch(`${base}/ipfs/not-a-cid/images/front.png`)).status).toBe(400);
    // (".." never arrives: URLs are normalized before sending; a NUL byte does.)
    expect((await fetch(`${base}/ipfs/${root}/images/%00`)).status).toBe(400);
  });
});
