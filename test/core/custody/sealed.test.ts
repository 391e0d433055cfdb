import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCustody, type Custody } from "../../../core/custody/custody-secret.ts";
import { openSecret, parseSealingKeys, sealSecret, SealedSecretError, type SealingKeyring } from "../../../core/custody/sealed.ts";

const SECRET = "a-custody-secret-of-at-least-32-characters";

describe("sealed secrets: what the database keeps of a key the platform must hold", () => {
  let dir: string;
  let custody: Custody;
  let keyring: SealingKeyring;
  let platformKey: Custody["platformKey"];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-sealed-"));
    custody = openCustody({ custodySecret: SECRET, dataDir: dir });
    keyring = custody.keyring();
    platformKey = custody.platformKey;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps no trace of the key: opened again it is the same; sealed twice it differs", () => {
    const key = Wallet.createRandom().privateKey;
    const sealed = sealSecret(key, keyring);
    expect(sealed.startsWith("sealed:v1:")).toBe(true);
    expect(sealed).not.toContain(key.slice(2, 20));
    expect(openSecret(sealed, keyring)).toBe(key);
    expect(sealSecret(key, keyring)).not.toBe(sealed);
  });

  it("refuses a sealed value changed by one character, or opened under another custody secret", () => {
    const sealed = sealSecret(Wallet.createRandom().privateKey, keyring);
    const last = sealed.at(-2) === "A" ? "B" : "A";
    expect(() => openSecret(`${sealed.slice(0, -2)}${last}${sealed.at(-1)}`, keyring)).toThrow(expect.objectContaining({ problem: "TAMPERED" }));
    const another = openCustody({ custodySecret: "another-custody-secret-of-32-characters!", dataDir: dir });
    expect(() => openSecret(sealed, another.keyring())).toThrow(SealedSecretError);
  });

  it("refuses a value that is not sealed, rather than answering it as it is", () => {
    const plain = Wallet.createRandom().privateKey;
    expect(() => openSecret(plain, keyring)).toThrow(expect.objectContaining({ name: "SealedSecretError", problem: "NOT_SEALED" }));
  });

  it("refuses a truncated authentication tag and a value relabelled to another key", () => {
    const keyring = parseSealingKeys("v2,v1", platformKey);
    const sealed = sealSecret("the secret", keyring);
    const [, , rest] = sealed.split(":");
    const [iv, tag, body] = rest!.split(".");
    const short = Buffer.from(tag!, "base64url").subarray(0, 4).toString("base64url");
    expect(() => openSecret(`sealed:v2:${iv}.${short}.${body}`, keyring)).toThrow(SealedSecretError);
    expect(() => openSecret(`sealed:v1:${rest}`, keyring)).toThrow(expect.objectContaining({ problem: "TAMPERED" }));
  });

  it("seals under the keyring's first key and opens under any key it lists; a dropped key is named in the error", () => {
    const hex = "11".repeat(32);
    const old = sealSecret("kept", parseSealingKeys(undefined, platformKey));
    const both = parseSealingKeys(`k2=${hex},v1`, platformKey);
    const fresh = sealSecret("kept", both);
    expect(fresh.startsWith("sealed:k2:")).toBe(true);
    expect(openSecret(old, both)).toBe("kept");
    expect(openSecret(fresh, both)).toBe("kept");
    expect(() => openSecret(old, parseSealingKeys(`k2=${hex}`, platformKey))).toThrow(/key "v1"/);
  });

  it("refuses a SEALING_KEYS value it cannot read", () => {
    expect(() => parseSealingKeys("k2=abc", platformKey)).toThrow(/64 hex/);
    expect(() => parseSealingKeys("v1,v1", platformKey)).toThrow(/twice/);
    expect(() => parseSealingKeys("bad:id", platformKey)).toThrow(/key id/);
  });
});
