import { createHash, randomBytes } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";

/**
 * Personal data never goes into the public document (IPFS, digest on chain), which cannot be erased. The document
 * carries a salted commitment instead, `{ digest: "sha256:<hex>" }` over `canonicalJson({ salt, value })`; the salt
 * and value (a disclosure) stay in the database. Whoever holds a disclosure can prove it is what the issuer
 * committed to; once the disclosures are deleted, the 128-bit salt makes the digest useless for guessing names.
 */
export interface Commitment {
  digest: string;
}

/** `path` names the field: `recipientName`, or `attributes/<name>` for a personal attribute. */
export interface Disclosure {
  path: string;
  salt: string;
  value: string;
}

export const RECIPIENT_NAME_PATH = "recipientName";
export const attributePath = (name: string) => `attributes/${name}`;

export function isCommitment(value: unknown): value is Commitment {
  return !!value && typeof value === "object" && typeof (value as Commitment).digest === "string" && /^sha256:[0-9a-f]{64}$/.test((value as Commitment).digest);
}

export function commitmentDigest(salt: string, value: string): string {
  return `sha256:${createHash("sha256").update(canonicalJson({ salt, value })).digest("hex")}`;
}

/** A fresh salt, unless `salt` is given: a correction reuses the salt of an unchanged value, so its commitment stays. */
export function commit(path: string, value: string, salt = randomBytes(16).toString("base64url")): { commitment: Commitment; disclosure: Disclosure } {
  return { commitment: { digest: commitmentDigest(salt, value) }, disclosure: { path, salt, value } };
}

export function discloses(commitment: Commitment, disclosure: Pick<Disclosure, "salt" | "value">): boolean {
  return typeof disclosure.salt === "string" && typeof disclosure.value === "string" && commitmentDigest(disclosure.salt, disclosure.value) === commitment.digest;
}

/** Whether an unknown value (a request argument, a credential's claim) is a well-formed disclosure. */
export function isDisclosure(value: unknown): value is Disclosure {
  const d = value as Disclosure | undefined;
  return !!d && typeof d === "object" && typeof d.path === "string" && typeof d.salt === "string" && typeof d.value === "string";
}
