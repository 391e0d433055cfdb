/**
 * The keys secrets are sealed under: `current` seals, every key opens what it sealed. A stored value names its key
 * (`sealed:<id>:…`), so the sealing key can change without losing anything: add the new key first, reseal, and
 * only then drop the old one.
 */
export interface SealingKeyring {
  current: string;
  keys: ReadonlyMap<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
/** The key every deployment sealed under before rotation existed: derived from the custody secret. */
export const LEGACY_SEALING_KEY_ID = "v1";

/**
 * The keyring SEALING_KEYS names: comma-separated `<id>` or `<id>=<32 bytes as 64 hex characters>`, the first one
 * sealing. A bare `<id>` is derived from the custody secret (`derive`), so `v2,v1` rotates without a new secret to
 * keep; `<id>=<hex>` is a key kept apart from the custody secret. Unset: `v1`, the custody-derived key.
 */
export function parseSealingKeys(spec: string | undefined, derive: (purpose: string) => Buffer): SealingKeyring {
  const entries = (spec ?? LEGACY_SEALING_KEY_ID).split(",").map((e) => e.trim()).filter(Boolean);
  if (!entries.length) throw new Error("SEALING_KEYS: name at least one key");
  const keys = new Map<string, Buffer>();
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const id = eq < 0 ? entry : entry.slice(0, eq);
    if (!KEY_ID.test(id)) throw new Error(`SEALING_KEYS: "${id}" is not a key id (letters, digits, - and _, at most 32)`);
    if (keys.has(id)) throw new Error(`SEALING_KEYS: key id "${id}" is listed twice`);
    if (eq < 0) {
      keys.set(id, derive(`sealed-secrets/${id}`));
    } else {
      const hex = entry.slice(eq + 1);
      if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`SEALING_KEYS: key "${id}" must be 64 hex characters (32 bytes, e.g. \`openssl rand -hex 32\`)`);
      keys.set(id, Buffer.from(hex, "hex"));
    }
  }
  return { current: entries[0]!.split("=")[0]!, keys };
}
