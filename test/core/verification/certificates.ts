import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GraphQLClient, gql } from "graphql-request";
import type { startTestStack } from "../../support/stack.ts";
import { waitFor } from "../../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

export interface IssuedCertificate {
  id: string;
  tokenId: string;
  metadataCid: string;
  owner: string;
}

const ISSUE = gql`
  mutation Issue($input: IssueCertificateInput!) {
    issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { __typename code message field } }
  }
`;
const ISSUANCE = gql`
  query Issuance($id: ID!) {
    issuance(id: $id) { status error metadataCid certificate { id tokenId owner } }
  }
`;
const REVOKE = gql`
  mutation Revoke($input: RevokeCertificateInput!) {
    revokeCertificate(input: $input) { ... on RevokeCertificatePayload { revocation { id } } ... on Error { __typename code message field } }
  }
`;
const CERTIFICATE = gql`
  query Certificate($id: ID!) { certificate(id: $id) { status } }
`;

export function issuerClient(stack: Stack): GraphQLClient {
  return new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${stack.devInfo.apiKey}` } });
}

/** Issues through the public API, as an institution would, and waits until the indexer has seen it on chain. */
export async function issueCertificate(stack: Stack, fields: Record<string, unknown> & { recipient: string }): Promise<IssuedCertificate> {
  const client = issuerClient(stack);
  const res = await client.request<{ issueCertificate: { issuance: { id: string } } }>(ISSUE, {
    input: { collectionId: stack.devInfo.collectionId, idempotencyKey: crypto.randomUUID(), ...fields },
  });
  type View = { status: string; error: string | null; metadataCid: string; certificate: { id: string; tokenId: string; owner: string } | null };
  const done = await waitFor(
    async () => (await client.request<{ issuance: View }>(ISSUANCE, { id: res.issueCertificate.issuance.id })).issuance,
    (i) => i.status === "CONFIRMED" || i.status === "FAILED",
  );
  if (done.status !== "CONFIRMED") throw new Error(`issuance failed: ${done.error}`);
  return { ...done.certificate!, metadataCid: done.metadataCid };
}

export async function revokeCertificate(stack: Stack, certificateId: string): Promise<void> {
  const client = issuerClient(stack);
  await client.request(REVOKE, { input: { certificateId, reason: "Issued in error", reasonCode: "PRIVILEGE_WITHDRAWN" } });
  await waitFor(
    async () => (await client.request<{ certificate: { status: string } }>(CERTIFICATE, { id: certificateId })).certificate.status,
    (s) => s === "REVOKED",
  );
}

/** Moves the chain's clock forward (EDR only), as time passing would. */
export async function advanceChainTime(stack: Stack, seconds: number): Promise<void> {
  await stack.provider.send("evm_increaseTime", [seconds]);
  await stack.provider.send("evm_mine", []);
}

/**
 * Rewrites, on disk, the block holding `original` in the embedded IPFS store: what an attacker with access to the
 * storage, or a corrupted disk, would leave behind. The CID stays; the bytes served for it change.
 */
export function tamperWithStoredBlock(stack: Stack, original: Uint8Array, replacement: Uint8Array): void {
  const root = join(stack.dataDir, "ipfs", "blocks");
  const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const target = files.map((e) => join(e.parentPath, e.name)).find((path) => Buffer.from(readFileSync(path)).equals(Buffer.from(original)));
  if (!target) throw new Error("the block to tamper with is not in the store");
  writeFileSync(target, replacement);
}

export async function fetchDocument(stack: Stack, cid: string): Promise<Uint8Array> {
  const base = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
  return new Uint8Array(await (await fetch(`${base}/ipfs/${cid}`)).arrayBuffer());
}
