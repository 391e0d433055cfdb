import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { LEGACY_SEALING_KEY_ID, parseSealingKeys, type SealingKeyring } from "./sealing-keys.ts";

export { LEGACY_SEALING_KEY_ID, parseSealingKeys, type SealingKeyring };

export type SealedSecretProblem = "NOT_SEALED" | "UNKNOWN_KEY" | "TAMPERED";

/** A stored secret that cannot be opened: never sealed, sealed under a key no longer configured, or changed. */
export class SealedSecretError extends Error {
  readonly problem: SealedSecretProblem;
  constructor(problem: SealedSecretProblem, message: string) {
    super(message);
    this.name = "SealedSecretError";
    this.problem = problem;
  }
}

const SEALED = /^sealed:([A-Za-z0-9][A-Za-z0-9_-]{0,31}):([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/;

/** Whether a stored value is sealed (under any key). */
export function isSealed(stored: string): boolean {
  return SEALED.test(stored);
}

/** The id of the key a sealed value was sealed under; undefined for a value that is not sealed. */
export function sealedKeyId(stored: string): string | undefined {
  return SEALED.exec(stored)?.[1];
}

/**
 * A secret the platform must keep (a voucher-signing key, an institution's credential-signing key, a webhook
 * secret) as stored: AES-256-GCM under the keyring's current key, so a copy of the database alone signs nothing.
 */
export function sealSecret(plain: string, keyring: SealingKeyring): string {
  const id = keyring.current;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyring.keys.get(id)!, iv);
  // The key id is authenticated too, so a value cannot be relabelled to another key.
  if (id !== LEGACY_SEALING_KEY_ID) cipher.setAAD(Buffer.from(`hallmark/sealed/${id}`));
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return `sealed:${id}:${iv.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}.${body.toString("base64url")}`;
}

/**
 * The secret `sealSecret` stored. A value that is not sealed is refused (NOT_SEALED), never answered as it is: the
 * start-up step seals what was stored before sealing existed, and after it a plain value is a value someone wrote
 * around the platform.
 */
export function openSecret(stored: string, keyring: SealingKeyring): string {
  const m = SEALED.exec(stored);
  if (!m) throw new SealedSecretError("NOT_SEALED", "a stored secret is not sealed (run the platform once to seal stored secrets, or `npm run reseal`)");
  const [, id, iv, tag, body] = m;
  const key = keyring.keys.get(id!);
  if (!key) throw new SealedSecretError("UNKNOWN_KEY", `a stored secret is sealed under key "${id}", which SEALING_KEYS no longer lists (add it back and run \`npm run reseal\`)`);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv!, "base64url"), { authTagLength: 16 });
    if (id !== LEGACY_SEALING_KEY_ID) decipher.setAAD(Buffer.from(`hallmark/sealed/${id}`));
    decipher.setAuthTag(Buffer.from(tag!, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body!, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SealedSecretError("TAMPERED", `a stored secret sealed under key "${id}" does not open: it was changed, or the key is not the one it was sealed under`);
  }
}
