import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { platformKey } from "./index.ts";

const PREFIX = "sealed:v1:";

/**
 * A secret the platform must keep (an editions contract's voucher-signing key) as stored: AES-256-GCM under a key
 * derived from the custody secret, so a copy of the database alone signs nothing.
 */
export function sealSecret(plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", platformKey("sealed-secrets/v1"), iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return `${PREFIX}${iv.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}.${body.toString("base64url")}`;
}

/** The secret `sealSecret` stored (a value stored before sealing existed is answered as it is). Throws when tampered with. */
export function openSecret(stored: string): string {
  if (!stored.startsWith(PREFIX)) return stored;
  const [iv, tag, body] = stored.slice(PREFIX.length).split(".").map((p) => Buffer.from(p, "base64url"));
  const decipher = createDecipheriv("aes-256-gcm", platformKey("sealed-secrets/v1"), iv!);
  decipher.setAuthTag(tag!);
  return Buffer.concat([decipher.update(body!), decipher.final()]).toString("utf8");
}
