import { openEmbeddedIpfs } from "./embedded.ts";
import { openKuboIpfs } from "./remote.ts";
import type { IpfsStore } from "./types.ts";

export { openEmbeddedIpfs } from "./embedded.ts";
export { openKuboIpfs, type KuboOptions } from "./remote.ts";
export { cidDigestMatches } from "./verify.ts";
export { IpfsNotFoundError, IpfsUnavailableError } from "./errors.ts";
export type { CatOptions, IpfsStore } from "./types.ts";

/** A Kubo node when one is configured, else a store embedded in this process under `dataDir`. */
export async function openIpfs(opts: { apiUrl?: string; dataDir: string }): Promise<IpfsStore> {
  return opts.apiUrl ? openKuboIpfs(opts.apiUrl) : openEmbeddedIpfs(opts.dataDir);
}
