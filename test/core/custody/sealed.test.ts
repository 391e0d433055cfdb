import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureCustody } from "../../../core/custody/index.ts";
import { openSecret, sealSecret } from "../../../core/custody/sealed.ts";

describe("sealed secrets: what the database keeps of a key the platform must hold", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-sealed-"));
    configureCustody({ custodySecret: "a-custody-secret-of-at-least-32-characters", dataDir: dir });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps no trace of the key: opened again it is the same; sealed twice it differs", () => {
    const key = Wallet.createRandom().privateKey;
    const sealed = sealSecret(key);
    expect(sealed.startsWith("sealed:v1:")).toBe(true);
    expect(sealed).not.toContain(key.slice(2, 20));
    expect(openSecret(sealed)).toBe(key);
    expect(sealSecret(key)).not.toBe(sealed);
  });

  it("refuses a sealed value changed by one character, or opened under another custody secret", () => {
    const sealed = sealSecret(Wallet.createRandom().privateKey);
    const last = sealed.at(-2) === "A" ? "B" : "A";
    expect(() => openSecret(`${sealed.slice(0, -2)}${last}${sealed.at(-1)}`)).toThrow();
    configureCustody({ custodySecret: "another-custody-secret-of-32-characters!", dataDir: dir });
    try {
      expect(() => openSecret(sealed)).toThrow();
    } finally {
      configureCustody({ custodySecret: "a-custody-secret-of-at-least-32-characters", dataDir: dir });
    }
  });

  it("answers a value stored before sealing existed as it is", () => {
    const legacy = Wallet.createRandom().privateKey;
    expect(openSecret(legacy)).toBe(legacy);
  });
});
