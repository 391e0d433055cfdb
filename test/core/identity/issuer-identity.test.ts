import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuerKeysOf, rotateIssuerKey } from "../../../core/credentials/institution-keys.ts";
import { openCustody, type Custody } from "../../../core/custody/custody-secret.ts";
import { openDatabase, type DatabaseHandle } from "../../../core/db/index.ts";
import { institutions } from "../../../core/db/schema.ts";
import { didWebUrl, domainOfIdentity, platformDid } from "../../../core/identity/did-web.ts";
import { issuerDidOf, localDidResolver } from "../../../core/identity/issuer-identity.ts";

describe("institutions' did:web identities", () => {
  let dir: string;
  let handle: DatabaseHandle;
  let custody: Custody;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-issuer-identity-"));
    handle = await openDatabase({ dir: join(dir, "db") });
    custody = openCustody({ custodySecret: "a-custody-secret-of-at-least-32-characters", dataDir: dir });
  });
  afterAll(async () => {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("names a platform DID after the public host (port encoded %3A) and resolves it where the did:web spec says", () => {
    expect(platformDid("https://hallmark.example", "uni")).toBe("did:web:hallmark.example:institutions:uni");
    expect(platformDid("http://127.0.0.1:4000/", "uni")).toBe("did:web:127.0.0.1%3A4000:institutions:uni");
    expect(didWebUrl("did:web:hallmark.example%3A8443:institutions:uni").href).toBe("https://hallmark.example:8443/institutions/uni/did.json");
    expect(didWebUrl("did:web:example.edu#z6Mk").href).toBe("https://example.edu/.well-known/did.json");
    expect(issuerDidOf({ id: "x", slug: "uni", identity: "example.edu" }, "https://hallmark.example")).toBe("did:web:hallmark.example:institutions:uni");
    expect(issuerDidOf({ id: "x", slug: "uni", identity: "did:web:example.edu" }, "https://hallmark.example")).toBe("did:web:example.edu");
    expect(issuerDidOf({ id: "x", slug: "uni", identity: "did:web:example.edu:people:x" }, "https://hallmark.example")).toBe("did:web:hallmark.example:institutions:uni");
    expect([domainOfIdentity("Example.EDU"), domainOfIdentity("did:web:example.edu"), domainOfIdentity("did:key:z6Mk"), domainOfIdentity("did:web:127.0.0.1%3A4000")]).toEqual([
      "example.edu",
      "example.edu",
      undefined,
      undefined,
    ]);
  });

  it("answers its own institutions' DID documents from the database, hosted or on their own domain, and nothing else", async () => {
    const [hosted] = await handle.db.insert(institutions).values({ name: "Hosted U", slug: "hosted-u", identity: "hosted.example" }).returning();
    const [own] = await handle.db.insert(institutions).values({ name: "Own U", slug: "own-u", identity: "did:web:own.example" }).returning();
    const origin = "https://hallmark.example";
    const resolve = localDidResolver(handle.db, () => origin, custody.keyring());
    const [hostedKey] = await issuerKeysOf(handle.db, hosted!.id, custody.keyring());
    expect(await resolve("did:web:hallmark.example:institutions:hosted-u")).toMatchObject({
      id: "did:web:hallmark.example:institutions:hosted-u",
      assertionMethod: [`did:web:hallmark.example:institutions:hosted-u#${hostedKey!.publicKeyMultibase}`],
    });
    expect(await resolve("did:web:own.example")).toMatchObject({ id: "did:web:own.example" });
    // Its did:web is on its own domain: Hallmark does not host one for it, nor for unknown slugs or other hosts.
    expect(await resolve("did:web:hallmark.example:institutions:own-u")).toBeUndefined();
    expect(await resolve("did:web:hallmark.example:institutions:nobody")).toBeUndefined();
    expect(await resolve("did:web:elsewhere.example:institutions:hosted-u")).toBeUndefined();
    expect(await resolve("did:web:unknown.example")).toBeUndefined();

    // Rotated twice, the second time as compromised: the first key stays, the second leaves, the third is current.
    await rotateIssuerKey(handle.db, { institutionId: own!.id, compromised: false, idempotencyKey: "r1" }, custody.keyring());
    await rotateIssuerKey(handle.db, { institutionId: own!.id, compromised: true, idempotencyKey: "r2" }, custody.keyring());
    const keys = await issuerKeysOf(handle.db, own!.id, custody.keyring());
    expect(keys.map((k) => k.status)).toEqual(["RETIRED", "COMPROMISED", "CURRENT"]);
    const document = (await resolve("did:web:own.example"))!;
    expect(document.assertionMethod).toEqual([keys[0]!, keys[2]!].map((k) => `did:web:own.example#${k.publicKeyMultibase}`));
  });
});
