import { Contract, Wallet } from "ethers";
import { ClientError, GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COLLECTIBLE_EDITIONS_ABI } from "../../core/editions/index.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { issueCertificate } from "../core/verification/certificates.ts";
import { failureOf } from "../support/graphql-http.ts";
import { startTestStack } from "../support/stack.ts";

const CHALLENGE = gql`mutation ($address: String!) { requestHolderSignIn(address: $address) { ... on HolderSignInChallenge { message nonce } ... on Error { __typename code message field } } }`;
const SIGN_IN = gql`mutation ($nonce: String!, $signature: String!) { holderSignIn(nonce: $nonce, signature: $signature) { ... on HolderSession { token address expiresAt } ... on Error { __typename code message field } } }`;
const HOLDER = gql`query { holder { address certificates { id title: collection issuer status verifyUrl contract } collectibles { edition serial maxSupply imageCid galleryUrl } } }`;

const codeOf = (err: unknown) => (err as ClientError).response?.errors?.[0]?.extensions?.code;

describe("holders in the API: Sign-In with Ethereum, then their own certificates and collectibles", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let anonymous: GraphQLClient;
  const holder = Wallet.createRandom();

  const signInAs = async (wallet: { address: string; signMessage(m: string): Promise<string> }, signer = wallet) => {
    const { requestHolderSignIn } = await anonymous.request<any>(CHALLENGE, { address: wallet.address });
    const signature = await signer.signMessage(requestHolderSignIn.message);
    return { nonce: requestHolderSignIn.nonce as string, signature, message: requestHolderSignIn.message as string };
  };

  beforeAll(async () => {
    stack = await startTestStack();
    anonymous = new GraphQLClient(stack.devInfo.graphqlUrl);
    await issueCertificate(stack, { recipient: holder.address, title: "Diploma in Astronomy", recipientName: "Vera Rubin" });
    await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Someone else's diploma" });
    const editions = new Contract(stack.devInfo.contracts.CollectibleEditions!, [...COLLECTIBLE_EDITIONS_ABI, "function airdrop(uint256 editionId, address[] holders) returns (uint256)"], new Wallet(DEV_KEYS.deployer, stack.provider));
    await (await editions.getFunction("airdrop")(1, [holder.address])).wait();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("signs in with an EIP-4361 message and reads only what this account holds", async () => {
    const { nonce, signature, message } = await signInAs(holder);
    expect(message).toContain(`wants you to sign in with your Ethereum account:\n${holder.address}`);
    expect(message).toMatch(/Chain ID: 31337\nNonce: [0-9a-f]{24}\n/);
    const { holderSignIn } = await anonymous.request<any>(SIGN_IN, { nonce, signature });
    expect(holderSignIn.token).toMatch(/^hs_/);
    expect(holderSignIn.address).toBe(holder.address);

    const asHolder = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${holderSignIn.token}` } });
    const { holder: me } = await asHolder.request<any>(HOLDER);
    expect(me.address).toBe(holder.address);
    expect(me.certificates).toHaveLength(1);
    expect(me.certificates[0]).toMatchObject({ issuer: "Demo University", status: "VALID", contract: stack.devInfo.contracts.CertificateRegistry });
    expect(me.certificates[0].verifyUrl).toMatch(new RegExp(`/verify/${me.certificates[0].id}$`));
    expect(me.collectibles).toEqual([expect.objectContaining({ edition: "Harbour Lights", serial: 4, maxSupply: 100, imageCid: expect.stringMatching(/^b/) })]);

    // A holder session is not an API key: institution data stays closed to it.
    await expect(asHolder.request(gql`query { certificates(first: 5) { totalCount } }`)).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHENTICATED");
  });

  it("refuses a replayed nonce, a signature by another account, a malformed address and a forged token", async () => {
    const { nonce, signature } = await signInAs(holder);
    await anonymous.request(SIGN_IN, { nonce, signature });
    expect(await failureOf(anonymous.request(SIGN_IN, { nonce, signature }))).toMatchObject({ typed: true, typename: "NotAllowedError", code: "UNAUTHENTICATED" });

    const stranger = Wallet.createRandom();
    const other = await signInAs(holder, stranger);
    expect(await failureOf(anonymous.request(SIGN_IN, { nonce: other.nonce, signature: other.signature }))).toMatchObject({ typed: true, code: "UNAUTHENTICATED" });

    for (const address of ["0x123", "not an address", "<script>alert(1)</script>"]) {
      expect(await failureOf(anonymous.request(CHALLENGE, { address }))).toMatchObject({ typed: true, typename: "InvalidInputError", code: "BAD_USER_INPUT" });
    }
    const forged = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: "Bearer hs_forged" } });
    await expect(forged.request(HOLDER)).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHENTICATED");
    // An API key is not a holder.
    const institution = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${stack.devInfo.apiKey}` } });
    await expect(institution.request(HOLDER)).rejects.toSatisfy((e) => ["FORBIDDEN", "UNAUTHENTICATED"].includes(String(codeOf(e))));
  });
});
