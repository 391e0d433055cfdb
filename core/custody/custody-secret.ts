import { hkdfSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Config } from "../config.ts";
import { parseSealingKeys, type SealingKeyring } from "./sealing-keys.ts";

/**
 * This process's custody secret and the keys derived from it: made once at start (`openCustody`) and handed to
 * whatever derives custodial accounts or seals and opens stored secrets, so none of them can run unconfigured.
 */
export interface Custody {
  /** The secret's bytes, for the derivations in core/custody; never used as a key itself. */
  secret(): Buffer;
  /** A 32-byte key for one purpose, derived from the custody secret (HKDF-SHA256). */
  platformKey(purpose: string): Buffer;
  /** The keys stored secrets are sealed under: SEALING_KEYS, its bare ids derived from the custody secret. */
  keyring(): SealingKeyring;
}

/**
 * The custody secret is CUSTODY_SECRET, else (outside production, where the config requires it) a random one
 * generated on first use and kept in `<data dir>/custody-secret`. Nothing is read until something needs it.
 */
export function openCustody(config: Pick<Config, "custodySecret" | "dataDir"> & Partial<Pick<Config, "sealingKeys">>): Custody {
  const file = join(resolve(config.dataDir), "custody-secret");
  let secret: Buffer | undefined;
  let keyring: SealingKeyring | undefined;
  const custody: Custody = {
    secret: () => (secret ??= Buffer.from(config.custodySecret || readOrCreateSecret(file), "utf8")),
    platformKey: (purpose) => Buffer.from(hkdfSync("sha256", custody.secret(), Buffer.alloc(0), `hallmark/${purpose}`, 32)),
    keyring: () => (keyring ??= parseSealingKeys(config.sealingKeys, custody.platformKey)),
  };
  return custody;
}

function readOrCreateSecret(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    // `wx`: two processes starting at once keep whichever was written first.
    try {
      writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    chmodSync(file, 0o600);
  }
  return readFileSync(file, "utf8").trim();
}
