import { createHash } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { unixfs } from "@helia/unixfs";
import { FsBlockstore } from "blockstore-fs";
import { NextToLast } from "blockstore-fs/sharding";
import { FsDatastore } from "datastore-fs";
import { createHeliaLight } from "helia";
import { importer, importFile } from "ipfs-unixfs-importer";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { create as createDigest } from "multiformats/hashes/digest";
import { parseContentPath, type ContentPath } from "./content-path.ts";
import { IpfsNotFoundError, IpfsUnavailableError } from "./errors.ts";
import { kuboV1ImportOptions, KUBO_CHUNK_SIZE } from "./import-params.ts";
import type { CatOptions, IpfsStore } from "./types.ts";
import { writeOnce } from "./write-once.ts";

/**
 * An embedded Helia node over a filesystem blockstore and datastore. It is Helia's light node: no libp2p, no block
 * brokers, no routers, because consortium deployments must never reach for public gateways on a miss. Reads are
 * also made `offline`, so a missing block fails at once instead of waiting on a network that is not there.
 *
 * It records no pins. Nothing ever deletes from this store (no garbage collector runs), and what must be kept is
 * already listed where it is authoritative: every CID the platform uses is in its database. Helia's pin records
 * cost several datastore writes and a DAG walk per document, more than the block itself, and bought nothing.
 */
export async function openEmbeddedIpfs(dir: string): Promise<IpfsStore> {
  const blocksDir = join(dir, "blocks");
  // blockstore-fs's default layout, named here so that blocks can be written into it directly (below).
  const sharding = new NextToLast();
  const blockstore = new FsBlockstore(blocksDir, { shardingStrategy: sharding });
  const datastore = new FsDatastore(join(dir, "datastore"));
  await blockstore.open();
  await datastore.open();
  const helia = createHeliaLight({ blockstore, datastore });
  await helia.start();
  const fs = unixfs(helia);
  /**
   * A block written where blockstore-fs reads it, atomically (a temp file of this write alone, renamed into place),
   * with fewer file-system calls than its own put, which are most of what a certificate's pin costs: no existence
   * check first (a block is content-addressed, so writing one that exists puts the same bytes in its place, and
   * `writeOnce` keeps concurrent writes of one block to one), and each shard directory made once per process.
   */
  const knownDirs = new Set<string>();
  let temps = 0;
  const writeBlock = async (cid: CID, bytes: Uint8Array) => {
    const { dir: shard, file } = sharding.encode(cid);
    const shardDir = join(blocksDir, shard);
    if (!knownDirs.has(shardDir)) {
      await mkdir(shardDir, { recursive: true });
      knownDirs.add(shardDir);
    }
    const target = join(shardDir, file);
    const temp = `${target}.${process.pid}-${++temps}.tmp`;
    try {
      await writeFile(temp, bytes);
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => {});
      throw err;
    }
  };
  const putBlock = writeOnce();
  const writer = {
    put: async (cid: CID, bytes: Uint8Array) => {
      await putBlock(cid.toString(), () => writeBlock(cid, bytes));
      return cid;
    },
  };
  let closed = false;

  const open = (cid: string): ContentPath => {
    if (closed) throw new IpfsUnavailableError("Embedded IPFS store is closed");
    return parseContentPath(cid);
  };
  const statOf = async (cid: CID, path?: string) => {
    const stat = await fs.stat(cid, { path, offline: true });
    return { type: stat.type === "directory" ? ("directory" as const) : ("file" as const), size: Number(stat.size) };
  };

  // blockstore-fs reports every read failure (even an abort) as NotFoundError, so aborts are told apart first;
  // an offline Helia read of an absent block says BlockNotFoundWhileOfflineError.
  const translate = (cid: string, err: unknown, signal?: AbortSignal): unknown => {
    if (signal?.aborted) return signal.reason;
    if (err instanceof Error && (err.name === "NotFoundError" || err.name === "BlockNotFoundWhileOfflineError")) return new IpfsNotFoundError(cid, { cause: err });
    return err;
  };

  return {
    async add(bytes) {
      if (closed) throw new IpfsUnavailableError("Embedded IPFS store is closed");
      // One chunk (every certificate document): with raw leaves and a single leaf reduced to itself, the importer's
      // answer is the raw CIDv1 of the bytes' sha256 and its one block is the bytes. That is computed here directly
      // (natively hashed); larger content goes through the importer.
      if (bytes.length > 0 && bytes.length <= KUBO_CHUNK_SIZE) {
        const digest = createHash("sha256").update(bytes).digest();
        const cid = CID.createV1(raw.code, createDigest(0x12, digest));
        await writer.put(cid, bytes);
        return cid.toString();
      }
      const { cid } = await importFile({ content: bytes }, writer, kuboV1ImportOptions());
      return cid.toString();
    },

    async addDirectory(files) {
      if (closed) throw new IpfsUnavailableError("Embedded IPFS store is closed");
      let root: CID | undefined;
      // wrapWithDirectory yields the wrapping directory last.
      for await (const entry of importer(files.map((f) => ({ path: f.path, content: f.bytes })), writer, { ...kuboV1ImportOptions(), wrapWithDirectory: true })) {
        root = entry.cid;
      }
      if (!root) throw new Error("a directory needs at least one file");
      return root.toString();
    },

    async *cat(cid, opts: CatOptions = {}) {
      const { cid: root, path } = open(cid);
      try {
        yield* fs.cat(root, { path, offset: opts.offset, length: opts.length, signal: opts.signal, offline: true });
      } catch (err) {
        throw translate(cid, err, opts.signal);
      }
    },

    async size(cid) {
      const { cid: root, path } = open(cid);
      try {
        return (await statOf(root, path)).size;
      } catch (err) {
        throw translate(cid, err);
      }
    },

    async stat(cid) {
      const { cid: root, path } = open(cid);
      try {
        const stat = await statOf(root, path);
        if (stat.type === "file") return { type: "file", size: stat.size };
        const entries = [];
        for await (const entry of fs.ls(root, { path, offline: true })) entries.push({ name: entry.name, ...(await statOf(entry.cid)) });
        return { type: "directory", entries };
      } catch (err) {
        throw translate(cid, err);
      }
    },

    async has(cid) {
      return blockstore.has(open(cid).cid);
    },

    async close() {
      if (closed) return;
      closed = true;
      await helia.stop();
      await Promise.all([blockstore.close(), datastore.close()]);
    },
  };
}
