import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../support/stack.ts";
import { fetchDocument, issueCertificate, revokeCertificate, type IssuedCertificate } from "../core/verification/certificates.ts";

const run = promisify(execFile);

const VERIFY = gql`
  query Verify($id: ID!) {
    verify(id: $id) {
      verdict
      checks { name result reason }
      certificate { title recipientName recipientNameStatus issuerName attributes { name value } }
      chain { chainId contract tokenId owner status txHash blockNumber }
    }
  }
`;

describe("verification over HTTP, GraphQL and the command line", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let baseUrl: string;
  let anonymous: GraphQLClient;
  let diploma: IssuedCertificate;
  let revoked: IssuedCertificate;
  const holder = Wallet.createRandom().address;

  beforeAll(async () => {
    stack = await startTestStack();
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    anonymous = new GraphQLClient(stack.devInfo.graphqlUrl);
    [diploma, revoked] = await Promise.all([
      issueCertificate(stack, { recipient: holder, title: "Doctor of Philosophy", recipientName: "Emmy Noether", attributes: [{ name: "Field", value: "Algebra" }] }),
      issueCertificate(stack, { recipient: holder, title: "Laboratory safety", recipientName: "Emmy Noether" }),
    ]);
    await revokeCertificate(stack, revoked.id);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("GraphQL `verify` answers anyone, with no API key, from the chain", async () => {
    const { verify } = await anonymous.request<{ verify: any }>(VERIFY, { id: diploma.id });
    expect(verify.verdict).toBe("VALID");
    expect(verify.checks.map((c: any) => [c.name, c.result])).toEqual([["integrity", "valid"], ["status", "valid"], ["issuer", "valid"]]);
    expect(verify.checks[2].reason).toMatch(/^issued by "Demo University" \(did:key:z6Mk\w+\), registered and active in the issuer registry 0x[0-9a-fA-F]{40} on chain 31337 at issue time/);
    // The holder's name is personal data: public lookups say it exists, not what it is (the holder's link shows it).
    expect(verify.certificate).toMatchObject({ title: "Doctor of Philosophy", recipientName: null, recipientNameStatus: "NOT_DISCLOSED", issuerName: "Demo University", attributes: [{ name: "Field", value: "Algebra" }] });
    expect(verify.chain).toMatchObject({ chainId: 31337, tokenId: diploma.tokenId, owner: holder, status: "VALID" });

    const { verify: gone } = await anonymous.request<{ verify: any }>(VERIFY, { id: revoked.id });
    expect(gone.verdict).toBe("INVALID");
    expect(gone.chain.status).toBe("REVOKED");

    const missing = await anonymous.request(VERIFY, { id: crypto.randomUUID() }).catch((e) => e);
    expect(missing.response.errors[0].extensions.code).toBe("NOT_FOUND");
  });

  it("GET /verify/<id> gives JSON to programs and the same verdict as a page to people", async () => {
    const json = await (await fetch(`${baseUrl}/verify/${diploma.id}`, { headers: { accept: "application/json" } })).json();
    expect(json.verdict).toBe("VALID");
    expect(json.chain.tokenId).toBe(diploma.tokenId);

    const res = await fetch(`${baseUrl}/verify/${revoked.id}`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const page = await res.text();
    expect(page).toContain("Not valid");
    expect(page).toContain("Revoked by its issuer (reason: PRIVILEGE_WITHDRAWN)");
    // Works offline: nothing is loaded from elsewhere.
    expect(page).not.toMatch(/<(link|script)[^>]+(href|src)=/i);
    expect(page).toContain("<svg role=\"img\" aria-label=\"Scan to verify:");

    const unknown = await fetch(`${baseUrl}/verify/${crypto.randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("No such certificate");
  });

  it("POST /verify checks a document someone was handed, and catches an altered one", async () => {
    const bytes = await fetchDocument(stack, diploma.metadataCid);
    const ok = await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: new TextDecoder().decode(bytes) })).json();
    expect(ok.verdict).toBe("VALID");
    const altered = new TextDecoder().decode(bytes).replace("Algebra", "Astrology");
    const bad = await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: altered })).json();
    expect(bad.verdict).toBe("INVALID");
    expect(bad.checks[0]).toMatchObject({ name: "integrity", result: "invalid" });
  });

  it("GraphQL `verifyDocument` checks a document given as JSON, and refuses what is not a certificate", async () => {
    const document = JSON.parse(new TextDecoder().decode(await fetchDocument(stack, diploma.metadataCid)));
    const query = gql`query($d: JSON!) { verifyDocument(document: $d) { verdict checks { name result } chain { tokenId } } }`;
    const ok = await anonymous.request<{ verifyDocument: any }>(query, { d: document });
    expect(ok.verifyDocument).toMatchObject({ verdict: "VALID", chain: { tokenId: diploma.tokenId } });
    document.certificate.validUntil = "2099-01-01T00:00:00.000Z";
    expect((await anonymous.request<{ verifyDocument: any }>(query, { d: document })).verifyDocument.verdict).toBe("INVALID");
    const junk = await anonymous.request(query, { d: { hello: "world" } }).catch((e) => e);
    expect(junk.response.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "document" });
  });

  // Each run starts a Node process that loads the verifier (about 2 s on a quiet machine, 10 s on a busy one): the
  // six run side by side, each with its own deadline, and the test with one of its own.
  it("`npm run verify` prints each check and exits 0 only for a valid certificate", { timeout: 180_000 }, async () => {
    const node = (args: string[]) =>
      run("node", ["scripts/verify.ts", ...args], { timeout: 150_000 }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
      );
    const cli = (...args: string[]) => node([...args, "--rpc", stack.devInfo.rpcUrl, "--graphql", stack.devInfo.graphqlUrl, "--data-dir", stack.dataDir]);
    const file = join(stack.dataDir, "altered.json");
    writeFileSync(file, new TextDecoder().decode(await fetchDocument(stack, diploma.metadataCid)).replace("Doctor of Philosophy", "Doctor of Medicine"));
    const [valid, gone, altered, offline, down, nobody] = await Promise.all([
      cli(diploma.id),
      cli(revoked.id),
      cli(file),
      cli(file, "--offline"),
      node([`31337:${stack.devInfo.contracts.CertificateRegistry}:${diploma.tokenId}`, "--rpc", "http://127.0.0.1:9", "--data-dir", stack.dataDir]),
      cli(crypto.randomUUID()),
    ]);

    expect(valid.code).toBe(0);
    expect(valid.stdout).toMatch(/✓ integrity +valid/);
    expect(valid.stdout).toMatch(/✓ status +valid/);
    expect(valid.stdout).toMatch(/✓ issuer +valid +issued by "Demo University"/);
    expect(valid.stdout).toContain("verdict: VALID");
    expect(valid.stdout).toContain("recipient: not disclosed");
    expect(valid.stdout).not.toContain("Noether");

    expect(gone.code).toBe(1);
    expect(gone.stdout).toMatch(/✗ status +invalid +revoked by its issuer/);

    expect(altered.code).toBe(1);
    expect(altered.stdout).toMatch(/✗ integrity +invalid/);

    expect(offline.code).toBe(2);
    expect(offline.stdout).toContain("verdict: UNKNOWN");

    expect(down.code).toBe(2);
    expect(down.stdout).toContain("verdict: UNKNOWN");

    expect(nobody.code).toBe(66);
  });
});
