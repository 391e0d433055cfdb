import { CID } from "multiformats/cid";

export function parseCid(cid: string): CID {
  try {
    return CID.parse(cid);
  } catch (err) {
    throw new TypeError(`Invalid CID "${cid}"`, { cause: err });
  }
}
