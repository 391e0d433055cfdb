import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import * as vc from "@digitalbazaar/vc";
import { BitstringStatusList, createCredential, VC_BSL_VC_V2_CONTEXT } from "@digitalbazaar/vc-bitstring-status-list";
import { documentLoader } from "../credentials/document-loader.ts";
import type { SigningKey } from "../credentials/institution-keys.ts";
import type { StatusBits } from "./bits.ts";
import type { StatusPurpose } from "./purposes.ts";

/** The list as encoded for `encodedList` (GZIP, base64url, multibase `u`): what a change of status changes. */
export async function encodeStatusBits(bits: StatusBits): Promise<{ list: BitstringStatusList; encodedList: string }> {
  const list = new BitstringStatusList({ length: bits.length });
  for (const index of bits.set) list.setStatus(index, true);
  return { list, encodedList: await list.encode() };
}

/**
 * A `BitstringStatusListCredential` signed (eddsa-rdfc-2022) by the key that signs the collection's exported
 * credentials, as the spec asks (a verifier may insist that both issuers match). It carries no `validFrom`: a
 * verifier whose clock runs a little behind would otherwise reject a list signed a moment ago. `validUntil` bounds how
 * long a copy replayed by someone else can hide a later revocation; `ttl` tells verifiers how long to cache it.
 */
export async function signStatusList(opts: {
  url: string;
  purpose: StatusPurpose;
  list: BitstringStatusList;
  issuer: { key: SigningKey; name: string };
  validUntil: Date;
  ttlMs: number;
}): Promise<Record<string, unknown>> {
  const unsigned = await createCredential({ id: opts.url, list: opts.list, statusPurpose: opts.purpose, context: VC_BSL_VC_V2_CONTEXT });
  const credential = {
    ...unsigned,
    issuer: { id: opts.issuer.key.did, name: opts.issuer.name },
    validUntil: opts.validUntil.toISOString().replace(/\.\d{3}Z$/, "Z"),
    credentialSubject: { ...unsigned.credentialSubject, ttl: opts.ttlMs },
  };
  const suite = new DataIntegrityProof({ signer: opts.issuer.key.keyPair.signer(), cryptosuite: eddsaRdfc2022 });
  return vc.issue({ credential, suite, documentLoader });
}
