import * as raw from "multiformats/codecs/raw";
import { CID } from "multiformats/cid";
import { identity } from "multiformats/hashes/identity";
import { sha256 } from "multiformats/hashes/sha2";
import { parseCid } from "./cid.ts";
import { computeCid, kuboV0ImportOptions, kuboV1ImportOptions } from "./import-params.ts";

const DAG_PB_CODE = 0x70;

/**
 * Whether `bytes` are the content `cid` names, recomputed locally so a verifier need not trust whoever served them.
 * dag-pb CIDs are only reproducible with the import parameters that made them: this assumes Kubo's defaults (the
 * ones `add` uses), so a dag-pb CID built with other chunking yields false even for the right bytes.
 * Throws for codecs or hash functions it cannot recompute, since "cannot tell" must not read as "tampered".
 */
export async function cidDigestMatches(cid: string, bytes: Uint8Array): Promise<boolean> {
  const expected = parseCid(cid);

  if (expected.code === raw.code) {
    const digest = await rehash(expected, bytes);
    return CID.createV1(raw.code, digest).equals(expected);
  }

  if (expected.code === DAG_PB_CODE) {
    if (expected.multihash.code !== sha256.code) {
      throw new Error(`Cannot verify ${cid}: dag-pb with multihash 0x${expected.multihash.code.toString(16)}`);
    }
    const options = expected.version === 0 ? kuboV0ImportOptions() : kuboV1ImportOptions();
    return (await computeCid(bytes, options)).equals(expected);
  }

  throw new Error(`Cannot verify ${cid}: unsupported codec 0x${expected.code.toString(16)}`);
}

async function rehash(cid: CID, bytes: Uint8Array) {
  switch (cid.multihash.code) {
    case sha256.code:
      return sha256.digest(bytes);
    case identity.code:
      return identity.digest(bytes);
    default:
      throw new Error(`Cannot verify ${cid}: unsupported multihash 0x${cid.multihash.code.toString(16)}`);
  }
}
