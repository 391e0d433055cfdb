import { createHash } from "node:crypto";

/**
 * How every secret shown once is kept (API keys, holder sessions, claim codes): sha256, hex. The secrets are long
 * random strings, so a plain hash cannot be reversed by guessing, and equal secrets find their row by equality.
 */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
