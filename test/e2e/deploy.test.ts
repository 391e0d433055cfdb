import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Contract, Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { DEV_KEYS, startEmbeddedChain, type EmbeddedChain } from "../../scripts/dev/chain.ts";
import { startStack, type RunningStack } from "../../scripts/dev/stack.ts";
import { waitFor } from "../support/stack.ts";

const run = promisify(execFile);

describe("`npm run deploy` against a JSON-RPC endpoint, then the platform issuing on what it deployed", () => {
  let chain: EmbeddedChain;
  let dataDir: string;
  let stack: RunningStack | undefined;
  let deployed: { institutionId: string; collectionId: string; contract: string; issuerRegistry: string; apiKey: string };
  const env = () => ({
    PATH: process.env.PATH,
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    HALLMARK_DATA_DIR: dataDir,
    CHAIN_RPC_URL: chain.rpcUrl,
    CHAIN_ID: "31337",
    DEPLOYER_PRIVATE_KEY: DEV_KEYS.deployer,
    SIGNER_PRIVATE_KEY: DEV_KEYS.minter,
  });

  beforeAll(async () => {
    chain = await startEmbeddedChain({ port: 0, chainId: 31337 });
    dataDir = mkdtempSync(join(tmpdir(), "hallmark-deploy-"));
  });
  afterAll(async () => {
    await stack?.stop();
    await chain?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("deploys the issuer registry and a certificate registry, binds and records them", async () => {
    const args = ["scripts/deploy.ts", "--institution", "Example University", "--slug", "example-university", "--identity", "did:web:example.edu", "--collection", "Diplomas", "--symbol", "DIPL", "--out", join(dataDir, "deployments")];
    const { stdout, stderr } = await run("node", args, { env: env() });
    deployed = JSON.parse(stdout);
    expect(stderr).toMatch(/IssuerRegistry deployed at 0x[0-9a-fA-F]{40}: set ISSUER_REGISTRY_ADDRESS=/);
    expect(deployed.apiKey).toMatch(/\S{20,}/);

    const provider = (await import("../../core/chain/provider.ts")).createChainProvider(chain.rpcUrl, 31337);
    try {
      const registry = new Contract(deployed.contract, loadArtifact("CertificateRegistry").abi, provider);
      expect(await registry.getFunction("hasRole")(await registry.getFunction("ISSUER_ROLE")(), new Wallet(DEV_KEYS.minter).address)).toBe(true);
      expect(await registry.getFunction("issuerRegistry")()).toBe(deployed.issuerRegistry);
      const issuers = new Contract(deployed.issuerRegistry, loadArtifact("IssuerRegistry").abi, provider);
      const id = await issuers.getFunction("institutionOf")(deployed.contract);
      expect((await issuers.getFunction("institution")(id)).identity).toBe("did:web:example.edu");
      expect(await issuers.getFunction("canIssue")(deployed.contract)).toBe(true);
    } finally {
      provider.destroy();
    }
    const record = JSON.parse(readFileSync(join(dataDir, "deployments", "31337.json"), "utf8"));
    expect(record).toMatchObject({ chainId: 31337, IssuerRegistry: deployed.issuerRegistry, collections: [{ CertificateRegistry: deployed.contract, institution: "example-university" }] });
  });

  it("the platform started on that chain and database issues into the deployed registry, and verifies it VALID", async () => {
    stack = await startStack({ env: { ...env(), ISSUER_REGISTRY_ADDRESS: deployed.issuerRegistry, PORT: "0" }, notice: () => {} });
    const client = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${deployed.apiKey}` } });
    const { issueCertificate } = await client.request<any>(
      gql`mutation ($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { __typename code message field } } }`,
      { input: { collectionId: deployed.collectionId, recipient: Wallet.createRandom().address, title: "BSc Physics", idempotencyKey: "deploy-test-1" } },
    );
    const done = await waitFor(
      () => client.request<any>(gql`query ($id: ID!) { issuance(id: $id) { status certificate { id tokenId } } }`, { id: issueCertificate.issuance.id }),
      (r) => r.issuance.status === "CONFIRMED",
    );
    const anonymous = new GraphQLClient(stack.devInfo.graphqlUrl);
    const { verify } = await anonymous.request<any>(gql`query ($id: ID!) { verify(id: $id) { verdict checks { name result reason } chain { contract } } }`, { id: done.issuance.certificate.id });
    expect(verify.chain.contract.toLowerCase()).toBe(deployed.contract.toLowerCase());
    expect(verify.verdict, JSON.stringify(verify.checks)).toBe("VALID");
    expect(verify.checks.find((c: any) => c.name === "issuer").reason).toMatch(/^issued by "Example University" \(did:web:example.edu\)/);
  });

  it("refuses half an institution's arguments, and an issuer registry address with no contract behind it", async () => {
    // The commands below open the same PGlite folder, which one process holds at a time.
    await stack?.stop();
    stack = undefined;
    const half = await run("node", ["scripts/deploy.ts", "--institution", "Example University"], { env: env() }).catch((e) => e);
    expect(half.code).toBe(64);
    expect(half.stderr).toMatch(/missing --slug, --collection, --symbol/);
    const nowhere = Wallet.createRandom().address;
    const bad = await run("node", ["scripts/deploy.ts", "--out", join(dataDir, "deployments")], { env: { ...env(), ISSUER_REGISTRY_ADDRESS: nowhere } }).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`ISSUER_REGISTRY_ADDRESS: no contract at ${nowhere}`);
  });

  it("the operator's deploy on an existing issuer registry grants OPERATOR_ROLE to the worker's admin key, once", async () => {
    const admin = Wallet.createRandom();
    const args = ["scripts/deploy.ts", "--out", join(dataDir, "deployments")];
    const withAdmin = { ...env(), ISSUER_REGISTRY_ADDRESS: deployed.issuerRegistry, ADMIN_PRIVATE_KEY: admin.privateKey };
    const first = await run("node", args, { env: withAdmin });
    expect(first.stderr).toContain(`OPERATOR_ROLE granted to ${admin.address}`);
    expect(JSON.parse(first.stdout)).toMatchObject({ issuerRegistry: deployed.issuerRegistry, operator: admin.address });
    // The platform started above made an operator key already: none is printed again unless asked for.
    const second = await run("node", args, { env: withAdmin });
    expect(second.stderr).toContain(`${admin.address} already holds OPERATOR_ROLE`);
    expect(JSON.parse(second.stdout).operatorApiKey).toBeNull();
    const third = await run("node", [...args, "--new-operator-key"], { env: withAdmin });
    expect(JSON.parse(third.stdout).operatorApiKey).toMatch(/^hm_/);
    // Without the address, a re-run takes the registry its folder recorded instead of deploying a second one.
    const { ISSUER_REGISTRY_ADDRESS: _unset, ...withoutAddress } = withAdmin;
    const fourth = await run("node", args, { env: withoutAddress });
    expect(fourth.stderr).toContain(`IssuerRegistry recorded in ${join(dataDir, "deployments", "31337.json")}: ${deployed.issuerRegistry}`);
    expect(fourth.stderr).not.toContain("IssuerRegistry deployed at");
    expect(JSON.parse(fourth.stdout).issuerRegistry).toBe(deployed.issuerRegistry);
  });
});
