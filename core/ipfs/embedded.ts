import { join } from "node:path";
import { unixfs } from "@helia/unixfs";
import { FsBlockstore } from "blockstore-fs";
import { FsDatastore } from "datastore-fs";
import { Key } from "interface-datastore";
import { importFile } from "ipfs-unixfs-importer";
import type { CID } from "multiformats/cid";
import { parseCid } from "./cid.ts";
import { IpfsNotFoundError, IpfsUnavailableError } from "./errors.ts";
import { kuboV1ImportOptions } from "./import-params.ts";
import type { CatOptions, IpfsStore } from "./types.ts";

/**
 * A local IPFS store: @helia/unixfs over a filesystem blockstore, with no Helia node around it. A Helia node (even
 * @helia/http's) brings block brokers and routers that reach for public gateways on a miss; consortium deployments
 * must never do that, and a miss has to fail at once. Reading the blockstore directly gives both by construction.
 */
export async function openEmbeddedIpfs(dir: string): Promise<IpfsStore> {
  const blockstore = new FsBlockstore(join(dir, "blocks"));
  // Pins are recorded so a future garbage collector knows what to keep; nothing collects today.
  const datastore = new FsDatastore(join(dir, "datastore"));
  await blockstore.open();
  await datastore.open();
  const fs = unixfs({ blockstore });
  let closed = false;

  const open = (cid: string): CID => {
    if (closed) throw new IpfsUnavailableError("Embedded IPFS store is closed");
    return parseCid(cid);
  };

  // blockstore-fs reports every read failure (even an abort) as NotFoundError, so aborts are told apart first.
  const translate = (cid: string, err: unknown, signal?: AbortSignal): unknown => {
    if (signal?.aborted) return signal.reason;
    if (err instanceof Error && err.name === "NotFoundError") return new IpfsNotFoundError(cid, { cause: err });
    return err;
  };

  return {
    async add(bytes) {
      if (closed) throw new IpfsUnavailableError("Embedded IPFS store is closed");
      const { cid } = await importFile({ content: bytes }, blockstore, kuboV1ImportOptions());
      await datastore.put(new Key(`/pins/${cid}`), new TextEncoder().encode(JSON.stringify({ depth: "all" })));
      return cid.toString();
    },

    async *cat(cid, opts: CatOptions = {}) {
      const parsed = open(cid);
      try {
        yield* fs.cat(parsed, { offset: opts.offset, length: opts.length, signal: opts.signal });
      } catch (err) {
        throw translate(cid, err, opts.signal);
      }
    },

    async size(cid) {
      const parsed = open(cid);
      try {
        return Number((await fs.stat(parsed)).size);
      } catch (err) {
        throw translate(cid, err);
      }
    },

    async has(cid) {
      return blockstore.has(open(cid));
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([blockstore.close(), datastore.close()]);
    },
  };
}
