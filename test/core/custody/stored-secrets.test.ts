import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import { eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { institutionSigningKey } from "../../../core/credentials/institution-keys.ts";
import { openCustody, type Custody } from "../../../core/custody/custody-secret.ts";
import { openSecret } from "../../../core/custody/sealed.ts";
import { prepareSealedSecrets, sealStoredSecrets } from "../../../core/custody/stored-secrets.ts";
import { openDatabase, type DatabaseHandle } from "../../../core/db/index.ts";
import { editionContracts, institutionKeys, institutions, webhookEndpoints } from "../../../core/db/schema.ts";

const SECRET = "a-custody-secret-of-at-least-32-characters";
/** The custody keys the steps below are handed; a step that changes SEALING_KEYS makes a new one. */
let custody: Custody;

/** Signs with the institution's stored key and checks the signature with its did:key's public key. */
async function signsAs(db: DatabaseHandle["db"], institutionId: string): Promise<string> {
  const key = await institutionSigningKey(db, institutionId, custody.keyring());
  const data = new TextEncoder().encode("a credential");
  const signature = await (key.keyPair.signer() as { sign(o: { data: Uint8Array }): Promise<Uint8Array> }).sign({ data });
  const publicOnly = await Ed25519Multikey.from({ publicKeyMultibase: key.did.slice("did:key:".length) });
  const ok = await ((publicOnly as unknown as { verifier(): unknown }).verifier() as { verify(o: { data: Uint8Array; signature: Uint8Array }): Promise<boolean> }).verify({ data, signature });
  expect(ok).toBe(true);
  return key.did;
}

describe("stored secrets are sealed, and the sealing key rotates without losing any", () => {
  let dir: string;
  let handle: DatabaseHandle;
  let institutionId: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-stored-secrets-"));
    handle = await openDatabase({ dir: join(dir, "db") });
    custody = openCustody({ custodySecret: SECRET, dataDir: dir });
    const [inst] = await handle.db.insert(institutions).values({ name: "Sealing U", slug: `sealing-${Date.now()}` }).returning();
    institutionId = inst!.id;
  });

  afterAll(async () => {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("stores a new institution signing key sealed: the column holds no part of the secret", async () => {
    const key = await institutionSigningKey(handle.db, institutionId, custody.keyring());
    const exported = await key.keyPair.export({ secretKey: true });
    const [row] = await handle.db.select().from(institutionKeys).where(eq(institutionKeys.institutionId, institutionId));
    expect(row!.secretKeyMultibase.startsWith("sealed:v1:")).toBe(true);
    expect(row!.secretKeyMultibase).not.toContain(exported.secretKeyMultibase!.slice(1, 20));
    expect(await signsAs(handle.db, institutionId)).toBe(key.did);
  });

  it("seals plain rows written before sealing existed, at start, once, with several processes at once", async () => {
    const [other] = await handle.db.insert(institutions).values({ name: "Legacy U", slug: `legacy-${Date.now()}` }).returning();
    const fresh = await Ed25519Multikey.generate();
    const exported = await fresh.export({ publicKey: true, secretKey: true });
    await handle.db.insert(institutionKeys).values({
      institutionId: other!.id,
      did: `did:key:${exported.publicKeyMultibase}`,
      publicKeyMultibase: exported.publicKeyMultibase,
      secretKeyMultibase: exported.secretKeyMultibase!,
    });
    const webhookSecret = `whsec_${"ab".repeat(16)}`;
    const [hook] = await handle.db.insert(webhookEndpoints).values({ institutionId: other!.id, url: "http://127.0.0.1:9/hook", secret: webhookSecret }).returning();
    const voucherKey = Wallet.createRandom().privateKey;
    const [contract] = await handle.db
      .insert(editionContracts)
      .values({ institutionId: other!.id, chainId: 31337, contractAddress: Wallet.createRandom().address, name: "Legacy", deployBlock: 1, voucherSignerKey: voucherKey })
      .returning();

    // Before the step, using the plain row is refused: a plain value is never taken as it is.
    await expect(institutionSigningKey(handle.db, other!.id, custody.keyring())).rejects.toThrow(expect.objectContaining({ problem: "NOT_SEALED" }));

    const config = { custodySecret: SECRET, dataDir: dir };
    const reports = await Promise.all([prepareSealedSecrets(handle.db, openCustody(config)), prepareSealedSecrets(handle.db, openCustody(config)), prepareSealedSecrets(handle.db, openCustody(config))]);
    expect(reports.reduce((n, r) => n + r.sealed, 0)).toBe(3);

    const [k] = await handle.db.select().from(institutionKeys).where(eq(institutionKeys.institutionId, other!.id));
    const [w] = await handle.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, hook!.id));
    const [c] = await handle.db.select().from(editionContracts).where(eq(editionContracts.id, contract!.id));
    expect(k!.secretKeyMultibase).not.toContain(exported.secretKeyMultibase!);
    expect(w!.secret).not.toContain(webhookSecret);
    expect(c!.voucherSignerKey).not.toContain(voucherKey.slice(2));
    expect(openSecret(w!.secret, custody.keyring())).toBe(webhookSecret);
    expect(openSecret(c!.voucherSignerKey, custody.keyring())).toBe(voucherKey);
    expect(await signsAs(handle.db, other!.id)).toBe(`did:key:${exported.publicKeyMultibase}`);

    // Run again: nothing left to do.
    expect((await prepareSealedSecrets(handle.db, openCustody(config))).sealed).toBe(0);
  });

  it("rotates: sealed under key 1, key 2 added, resealed, key 1 dropped — everything opens and signs as the same DID", async () => {
    const didBefore = await signsAs(handle.db, institutionId);
    const k2 = "42".repeat(32);
    const both = { custodySecret: SECRET, dataDir: dir, sealingKeys: `k2=${k2},v1` };
    custody = openCustody(both);
    const progress: string[] = [];
    const report = await sealStoredSecrets(handle.db, { keyring: custody.keyring(), reseal: true, onProgress: (c, d, t) => progress.push(`${c} ${d}/${t}`) });
    expect(report.unopenable).toEqual([]);
    expect(report.sealed).toBeGreaterThanOrEqual(4);
    expect(progress.some((p) => p.startsWith("institution signing keys"))).toBe(true);

    custody = openCustody({ custodySecret: SECRET, dataDir: dir, sealingKeys: `k2=${k2}` });
    for (const row of await handle.db.select().from(institutionKeys)) expect(row.secretKeyMultibase.startsWith("sealed:k2:")).toBe(true);
    for (const row of await handle.db.select().from(webhookEndpoints)) openSecret(row.secret, custody.keyring());
    for (const row of await handle.db.select().from(editionContracts)) openSecret(row.voucherSignerKey, custody.keyring());
    expect(await signsAs(handle.db, institutionId)).toBe(didBefore);

    // A reseal with nothing under an old key changes nothing.
    expect((await sealStoredSecrets(handle.db, { keyring: custody.keyring(), reseal: true })).sealed).toBe(0);
  });

  it("reports, and leaves alone, a secret sealed under a key no longer listed; using it names the missing key", async () => {
    custody = openCustody({ custodySecret: SECRET, dataDir: dir, sealingKeys: "v3" });
    const report = await sealStoredSecrets(handle.db, { keyring: custody.keyring(), reseal: true });
    expect(report.sealed).toBe(0);
    expect(report.unopenable.length).toBeGreaterThanOrEqual(4);
    expect(report.unopenable.every((u) => u.problem === "UNKNOWN_KEY")).toBe(true);
    await expect(institutionSigningKey(handle.db, institutionId, custody.keyring())).rejects.toThrow(/key "k2"/);
  });

  it("detects a sealed value moved or changed in the database", async () => {
    custody = openCustody({ custodySecret: SECRET, dataDir: dir, sealingKeys: `k2=${"42".repeat(32)}` });
    const [row] = await handle.db.select().from(institutionKeys).where(eq(institutionKeys.institutionId, institutionId));
    const v = row!.secretKeyMultibase;
    const changed = `${v.slice(0, -3)}${v.at(-3) === "A" ? "B" : "A"}${v.slice(-2)}`;
    await handle.db.update(institutionKeys).set({ secretKeyMultibase: changed }).where(eq(institutionKeys.institutionId, institutionId));
    await expect(institutionSigningKey(handle.db, institutionId, custody.keyring())).rejects.toThrow(expect.objectContaining({ problem: "TAMPERED" }));
    await handle.db.update(institutionKeys).set({ secretKeyMultibase: v }).where(eq(institutionKeys.institutionId, institutionId));
  });
});
