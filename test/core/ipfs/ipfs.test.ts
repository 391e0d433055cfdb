import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unixfs } from "@helia/unixfs";
import { FsBlockstore } from "blockstore-fs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cidDigestMatches,
  IpfsNotFoundError,
  IpfsUnavailableError,
  openEmbeddedIpfs,
  openIpfs,
  openKuboIpfs,
  type IpfsStore,
} from "../../../core/ipfs/index.ts";
import { computeCid } from "../../../core/ipfs/import-params.ts";

const DAG_PB_CODE = 0x70;
const CHUNK = 262_144;
// A CID nobody added: sha256 of a string no test stores.
const ABSENT = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode("never added"))).toString();

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

describe("embedded IPFS store", () => {
  let dir: string;
  let store: IpfsStore;
  const large = new Uint8Array(randomBytes(1024 * 1024));
  let largeCid: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-ipfs-"));
    store = await openIpfs({ dataDir: dir });
    largeCid = await store.add(large);
  });

  afterAll(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("roundtrips bytes through add and cat", async () => {
    const bytes = new TextEncoder().encode("hello, hallmark");
    const cid = await store.add(bytes);
    expect(await collect(store.cat(cid))).toEqual(Buffer.from(bytes));
  });

  it("gives a small JSON document the raw CID of its sha256, as Kubo's --raw-leaves does", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ title: "Diploma", recipient: "0xabc" }));
    const cid = await store.add(bytes);
    expect(cid).toBe(CID.createV1(raw.code, await sha256.digest(bytes)).toString());
    expect(cid).toMatch(/^bafkrei/);
    expect(await cidDigestMatches(cid, bytes)).toBe(true);
  });

  it("gives every size up to a chunk and just past it the importer's own CID, and reads it back", async () => {
    for (const size of [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1]) {
      const bytes = new Uint8Array(randomBytes(size));
      const cid = await store.add(bytes);
      expect(cid).toBe((await computeCid(bytes)).toString());
      expect(await store.has(cid)).toBe(true);
      expect(await collect(store.cat(cid))).toEqual(Buffer.from(bytes));
    }
  });

  it("roundtrips 1 MiB as a UnixFS DAG that cidDigestMatches recomputes, and rejects a one-byte change", async () => {
    expect(CID.parse(largeCid).code).toBe(DAG_PB_CODE);
    expect(await collect(store.cat(largeCid))).toEqual(Buffer.from(large));
    expect(await cidDigestMatches(largeCid, large)).toBe(true);

    const tampered = large.slice();
    tampered[500_000] ^= 0xff;
    expect(await cidDigestMatches(largeCid, tampered)).toBe(false);
  });

  it("reads a range of the large file across a chunk boundary", async () => {
    const offset = CHUNK - 100;
    const got = await collect(store.cat(largeCid, { offset, length: 1000 }));
    expect(got).toEqual(Buffer.from(large.subarray(offset, offset + 1000)));
  });

  it("reports the content size", async () => {
    expect(await store.size(largeCid)).toBe(large.byteLength);
    expect(await store.size(await store.add(new Uint8Array([1, 2, 3])))).toBe(3);
  });

  it("reports absent content at once: has is false and cat throws IpfsNotFoundError", async () => {
    expect(await store.has(ABSENT)).toBe(false);
    expect(await store.has(largeCid)).toBe(true);

    const started = Date.now();
    await expect(collect(store.cat(ABSENT))).rejects.toBeInstanceOf(IpfsNotFoundError);
    await expect(store.size(ABSENT)).rejects.toBeInstanceOf(IpfsNotFoundError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("gives the same bytes the same CID every time", async () => {
    const bytes = new TextEncoder().encode('{"same":true}');
    expect(await store.add(bytes)).toBe(await store.add(bytes));
    expect(await store.add(large)).toBe(largeCid);
  });

  it("stores the same content added concurrently intact", async () => {
    const bytes = new Uint8Array(randomBytes(600_000));
    const [a, b] = await Promise.all([store.add(bytes), store.add(bytes)]);
    expect(a).toBe(b);
    expect(await collect(store.cat(a))).toEqual(Buffer.from(bytes));
  });

  it("keeps content across closing and reopening the same directory", async () => {
    const bytes = new TextEncoder().encode("persisted");
    const cid = await store.add(bytes);
    await store.close();
    await expect(store.has(cid)).rejects.toBeInstanceOf(IpfsUnavailableError);

    store = await openEmbeddedIpfs(dir);
    expect(await store.has(cid)).toBe(true);
    expect(await collect(store.cat(cid))).toEqual(Buffer.from(bytes));
    expect(await collect(store.cat(largeCid))).toEqual(Buffer.from(large));
  });

  it("chunks like Kubo: 256 KiB raw leaves under a balanced DAG of at most 174 links", async () => {
    // Helia's own defaults (1 MiB chunks, 1024 links) would give different CIDs; inspect the stored DAG directly.
    const blocks = new FsBlockstore(join(dir, "blocks"));
    await blocks.open();
    try {
      const fs = unixfs({ blockstore: blocks });
      const stat = await fs.stat(CID.parse(largeCid));
      expect(stat.unixfs?.blockSizes).toEqual([CHUNK, CHUNK, CHUNK, CHUNK].map(BigInt));

      // 175 chunks overflow one 174-link node, so the root gets two children.
      const wide = new Uint8Array(175 * CHUNK);
      const wideCid = await store.add(wide);
      expect((await fs.stat(CID.parse(wideCid))).unixfs?.blockSizes).toEqual([174n * BigInt(CHUNK), BigInt(CHUNK)]);
      expect(await store.size(wideCid)).toBe(wide.byteLength);
    } finally {
      await blocks.close();
    }
  });

  it("adds files as one directory and reads each at <cid>/<path>, with stat listing the directories", async () => {
    const front = new Uint8Array(randomBytes(300_000)); // more than one chunk
    const manifest = new TextEncoder().encode('{"label":"Vase"}');
    const root = await store.addDirectory([
      { path: "images/front.png", bytes: front },
      { path: "manifest.json", bytes: manifest },
    ]);
    expect(CID.parse(root).code).toBe(DAG_PB_CODE);
    expect(await store.has(root)).toBe(true);
    expect(Buffer.compare(await collect(store.cat(`${root}/images/front.png`)), front)).toBe(0);
    expect(Buffer.from(await collect(store.cat(`${root}/images/front.png`, { offset: 262_140, length: 8 })))).toEqual(Buffer.from(front.subarray(262_140, 262_148)));
    expect(await store.size(`${root}/manifest.json`)).toBe(manifest.length);
    expect(await store.stat(root)).toEqual({
      type: "directory",
      entries: [
        { name: "images", type: "directory", size: 0 },
        { name: "manifest.json", type: "file", size: manifest.length },
      ],
    });
    expect(await store.stat(`${root}/images`)).toEqual({ type: "directory", entries: [{ name: "front.png", type: "file", size: front.length }] });
    await expect(store.size(`${root}/images/back.png`)).rejects.toBeInstanceOf(IpfsNotFoundError);
    await expect(store.size(`${root}/../etc/passwd`)).rejects.toBeInstanceOf(TypeError);
    // Content-addressed: the same files give the same directory CID.
    expect(await store.addDirectory([{ path: "manifest.json", bytes: manifest }, { path: "images/front.png", bytes: front }])).toBe(root);
  });

  it("rejects a malformed CID with a TypeError", async () => {
    await expect(store.has("not-a-cid")).rejects.toBeInstanceOf(TypeError);
  });
});

describe("Kubo IPFS store", () => {
  it("fails fast with IpfsUnavailableError when the node is unreachable", async () => {
    const store = await openKuboIpfs("http://127.0.0.1:1", { timeoutMs: 2000 });
    const started = Date.now();
    await expect(store.add(new Uint8Array([1]))).rejects.toBeInstanceOf(IpfsUnavailableError);
    await expect(store.has(ABSENT)).rejects.toBeInstanceOf(IpfsUnavailableError);
    await expect(store.size(ABSENT)).rejects.toBeInstanceOf(IpfsUnavailableError);
    await expect(collect(store.cat(ABSENT))).rejects.toBeInstanceOf(IpfsUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    await store.close();
  });

  it("is chosen by openIpfs when an API URL is configured", async () => {
    const store = await openIpfs({ apiUrl: "http://127.0.0.1:1", dataDir: "/nonexistent" });
    await expect(store.has(ABSENT)).rejects.toThrow(/127\.0\.0\.1:1.*unreachable/);
    await store.close();
  });

  it("rejects a malformed API URL when opened", async () => {
    await expect(openKuboIpfs("not a url")).rejects.toThrow(TypeError);
  });
});
