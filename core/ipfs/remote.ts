import { create, type KuboRPCClient } from "kubo-rpc-client";
import { parseContentPath } from "./content-path.ts";
import { IpfsNotFoundError, IpfsUnavailableError } from "./errors.ts";
import { computeCid, KUBO_CHUNKER } from "./import-params.ts";
import type { CatOptions, IpfsStore } from "./types.ts";

export interface KuboOptions {
  /** Bound on each RPC call (and on the wait for the first byte of a `cat`). Default 30 s. */
  timeoutMs?: number;
}

/**
 * Reads are sent with Kubo's global `offline` flag: "absent" must mean absent on this node, answered at once,
 * rather than Kubo searching the network for it (consortium nodes may have no route out, and a search hangs).
 * kubo-rpc-client kebab-cases unknown options into the query string, which is how the flag gets through; its own
 * `searchParams` option is lost when spread, and its `timeout` never aborts the fetch, so deadlines are ours.
 */
const OFFLINE = { offline: true } as object;

export async function openKuboIpfs(apiUrl: string, options: KuboOptions = {}): Promise<IpfsStore> {
  const url = new URL(apiUrl); // fail on a malformed setting now rather than on first use
  const client: KuboRPCClient = create({ url });
  const timeoutMs = options.timeoutMs ?? 30_000;
  let closed = false;

  const call = async <T>(what: string, cid: string | undefined, signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    if (closed) throw new IpfsUnavailableError("Kubo IPFS store is closed");
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      return await run(signal ? AbortSignal.any([signal, deadline]) : deadline);
    } catch (err) {
      throw translate(err, { what, cid, url, signal, deadline });
    }
  };

  /** `/ipfs/<cid>[/<path>]`, validated: a path goes to Kubo only once it is known to be a plain content path. */
  const ipfsPath = (cid: string) => {
    const { cid: root, path } = parseContentPath(cid);
    return path ? `/ipfs/${root}/${path}` : `/ipfs/${root}`;
  };
  const stat = (cid: string, signal?: AbortSignal) =>
    call("files/stat", cid, signal, (s) => client.files.stat(ipfsPath(cid), { ...OFFLINE, signal: s }));

  return {
    async add(bytes) {
      const expected = await computeCid(bytes);
      const result = await call("add", undefined, undefined, (signal) =>
        client.add(bytes, { cidVersion: 1, rawLeaves: true, chunker: KUBO_CHUNKER, hashAlg: "sha2-256", pin: true, signal }),
      );
      // A node configured with other import settings (e.g. Import.UnixFSFileMaxLinks) would mint CIDs that
      // cidDigestMatches cannot reproduce; refusing here beats issuing unverifiable certificates.
      if (!result.cid.equals(expected)) {
        throw new Error(`Kubo at ${url} stored the content as ${result.cid}, expected ${expected}: check its Import.* config`);
      }
      return result.cid.toString();
    },

    async addDirectory(files) {
      if (!files.length) throw new Error("a directory needs at least one file");
      return call("add", undefined, undefined, async (signal) => {
        let root: string | undefined;
        const entries = files.map((f) => ({ path: f.path, content: f.bytes }));
        for await (const added of client.addAll(entries, { wrapWithDirectory: true, cidVersion: 1, rawLeaves: true, chunker: KUBO_CHUNKER, hashAlg: "sha2-256", pin: true, signal })) {
          root = added.cid.toString(); // the wrapping directory comes last
        }
        return root!;
      });
    },

    async *cat(cid, opts: CatOptions = {}) {
      const path = ipfsPath(cid);
      // Stat first: a missing root fails fast and clearly, and the size lets a truncated stream be caught
      // (Kubo reports mid-stream errors only in an HTTP trailer, which fetch does not expose).
      const total = (await stat(cid, opts.signal)).size;
      const offset = Math.min(opts.offset ?? 0, total);
      const expected = Math.min(opts.length ?? Infinity, total - offset);
      if (expected <= 0) return;

      const firstByte = new AbortController();
      const timer = setTimeout(() => firstByte.abort(new IpfsUnavailableError(`Kubo at ${url} sent nothing for ${cid} in ${timeoutMs} ms`)), timeoutMs);
      const signal = opts.signal ? AbortSignal.any([opts.signal, firstByte.signal]) : firstByte.signal;
      let received = 0;
      try {
        for await (const chunk of client.cat(path, { offset, length: expected, ...OFFLINE, signal })) {
          clearTimeout(timer);
          received += chunk.byteLength;
          yield chunk;
        }
      } catch (err) {
        if (firstByte.signal.aborted && !opts.signal?.aborted) throw firstByte.signal.reason;
        throw translate(err, { what: "cat", cid, url, signal: opts.signal });
      } finally {
        clearTimeout(timer);
      }
      if (received !== expected) {
        throw new IpfsNotFoundError(cid, { detail: `Kubo at ${url} sent ${received} of ${expected} bytes (blocks missing on the node?)` });
      }
    },

    async size(cid) {
      return (await stat(cid)).size;
    },

    async stat(cid) {
      const found = await stat(cid);
      if (found.type !== "directory") return { type: "file", size: found.size };
      return call("ls", cid, undefined, async (signal) => {
        const entries = [];
        for await (const e of client.ls(ipfsPath(cid), { ...OFFLINE, signal })) {
          entries.push({ name: e.name, type: e.type === "dir" ? ("directory" as const) : ("file" as const), size: Number(e.size) });
        }
        return { type: "directory" as const, entries };
      });
    },

    async has(cid) {
      const parsed = parseContentPath(cid).cid;
      try {
        await call("block/stat", cid, undefined, (signal) => client.block.stat(parsed, { ...OFFLINE, signal }));
        return true;
      } catch (err) {
        if (err instanceof IpfsNotFoundError) return false;
        throw err;
      }
    },

    async close() {
      closed = true;
    },
  };
}

interface Context {
  what: string;
  cid: string | undefined;
  url: URL;
  signal: AbortSignal | undefined;
  deadline?: AbortSignal;
}

/** Maps kubo-rpc-client failures onto the store's errors; a caller's own abort passes through untouched. */
function translate(err: unknown, ctx: Context): unknown {
  if (ctx.signal?.aborted) return ctx.signal.reason;
  if (ctx.deadline?.aborted) {
    return new IpfsUnavailableError(`Kubo at ${ctx.url} did not answer ${ctx.what} in time`, { cause: err });
  }
  if (!(err instanceof Error)) return err;

  const status = (err as Error & { response?: Response }).response?.status;
  if (err.name === "HTTPError" || err.name === "TimeoutError") {
    // Kubo answers command errors with 500 and a message; other statuses come from proxies or a wrong API path.
    if (status === 500 && ctx.cid && /not found|could not find|no link named/i.test(err.message)) {
      return new IpfsNotFoundError(ctx.cid, { cause: err, detail: err.message });
    }
    if (status === 500 && err.name === "HTTPError") return err;
    return new IpfsUnavailableError(`Kubo at ${ctx.url} failed ${ctx.what}: ${status ?? ""} ${err.message}`.trim(), { cause: err });
  }
  // fetch() rejects with a TypeError when the connection cannot be made (refused, DNS, reset).
  if (err.name === "TypeError" || err.name === "AbortError") {
    return new IpfsUnavailableError(`Kubo at ${ctx.url} is unreachable (${ctx.what}): ${describe(err)}`, { cause: err });
  }
  return err;
}

function describe(err: Error): string {
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? err.message;
}
