import { randomUUID } from "node:crypto";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import { readEditionFromChain } from "../../core/editions/chain.ts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { editionOperations, holderEmailCodes } from "../../core/db/schema.ts";
import { clientAuthenticationAnonymous, HashAlgorithm, setGlobalConfig } from "@openid4vc/oauth2";
import { Openid4vciClient } from "@openid4vc/openid4vci";
import { startMailSink, type MailSink } from "../../scripts/dev/mail-sink.ts";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { graphqlClient } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";
import { createHash, randomBytes } from "node:crypto";

const E = "... on Error { __typename code message field }";
const REQUEST_CODE = `mutation($email: String!) { requestHolderEmailCode(email: $email) { ... on HolderEmailCodeRequest { expiresAt } ${E} } }`;
const EMAIL_SIGN_IN = `mutation($email: String!, $code: String!) { holderEmailSignIn(email: $email, code: $code) { ... on HolderEmailSession { token email } ${E} } }`;
const HOLDER = `{ holder { address email custodialAccounts { address issuer claimedAddress } certificates { id issuer status } } }`;
const ISSUE = `mutation($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ${E} } }`;
const ISSUANCE = `query($id: ID!) { issuance(id: $id) { status error certificate { id owner } } }`;
const REGISTER = `mutation($input: RegisterInstitutionInput!) { registerInstitution(input: $input) { ... on InstitutionOperationPayload { ownerApiKey operation { id } } ${E} } }`;
const REGISTRY_OP = `query($id: ID!) { registryOperation(id: $id) { status error } }`;
const CREATE_COLLECTION = `mutation($input: CreateCollectionInput!) { createCollection(input: $input) { ... on CreateCollectionPayload { collection { id } } ${E} } }`;
const COLLECTION = `query($id: ID!) { collection(id: $id) { status } }`;
const CHALLENGE = `mutation($address: String!) { requestHolderSignIn(address: $address) { ... on HolderSignInChallenge { message nonce } ${E} } }`;
const CLAIM_ALL = `mutation($nonce: String!, $signature: String!) { claimAllCustody(nonce: $nonce, signature: $signature) { ... on ClaimAllCustodyPayload { address custodialAddresses operations { id certificateId } collectibles { id status items released } } ${E} } }`;
const OPERATION = `query($id: ID!) { certificateOperation(id: $id) { status error newCertificate { id owner } } }`;
const CREATE_EDITION = `mutation ($input: CreateEditionInput!) { createEdition(input: $input) { ... on CreateEditionPayload { edition { id } } ${E} } }`;
const EDITION = `query ($id: ID!) { edition(id: $id) { status error contractAddress chainEditionId } }`;
const AIRDROP = `mutation ($input: AirdropInput!) { airdrop(input: $input) { ... on EditionOperationPayload { operation { id } } ${E} } }`;
const CODES = `mutation ($input: CreateClaimCodesInput!) { createClaimCodes(input: $input) { ... on CreateClaimCodesPayload { codes { code } } ${E} } }`;
const REDEEM = `mutation ($input: RedeemClaimCodeInput!) { redeemClaimCode(input: $input) { ... on EditionOperationPayload { operation { id } } ${E} } }`;
const EDITION_OP = `query ($id: ID!) { editionOperation(id: $id) { kind status error minted total txHashes } }`;
const COLLECTIBLES = `{ holder { collectibles { edition serial contract tokenId history { kind from to } } } }`;
const OFFER = `mutation($id: ID!, $tx: Boolean) { createCredentialOffer(certificateId: $id, txCode: $tx) { ... on CredentialOffer { uri offer txCode expiresAt qrSvg } ${E} } }`;

describe("holders without a wallet: e-mail sign-in, every institution's items, claim to a wallet, credentials into wallets", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let sink: MailSink;
  let base: string;
  const email = "Mei.Chen@Example.EDU";
  const anonymous = () => graphqlClient(stack.devInfo.graphqlUrl);
  const certificatesOfA: string[] = [];
  const certificatesOfB: string[] = [];
  let keyB: string;
  /** The Locked and GiftAfterLockup editions airdropped to the e-mail address, as the API names them. */
  const editionsOf: { id: string; contract: string; chainEditionId: string }[] = [];
  let visitor: string;

  beforeAll(async () => {
    sink = await startMailSink();
    stack = await startTestStack({ SMTP_URL: sink.url, MAIL_FROM: "Hallmark <no-reply@hallmark.test>" });
    base = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    // A second institution, registered by the operator and with a collection of its own on chain.
    const operator = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.operatorKey);
    const { registerInstitution } = await operator.ok<any>(REGISTER, {
      input: { name: "Second Hospital", slug: "second-hospital", identity: "second-hospital.example", ownerEmail: "records@second-hospital.example", idempotencyKey: "second" },
    });
    keyB = registerInstitution.ownerApiKey;
    await waitFor(async () => (await operator.ok<any>(REGISTRY_OP, { id: registerInstitution.operation.id })).registryOperation, (o) => o.status === "CONFIRMED", 60_000);
    const b = graphqlClient(stack.devInfo.graphqlUrl, keyB);
    const { createCollection } = await b.ok<any>(CREATE_COLLECTION, { input: { name: "Discharge letters", symbol: "DIS", kind: "CERTIFICATES", idempotencyKey: "letters" } });
    await waitFor(async () => (await b.ok<any>(COLLECTION, { id: createCollection.collection.id })).collection, (c) => c.status === "CONFIRMED", 60_000);
    const issue = async (key: string, collectionId: string, title: string) => {
      const client = graphqlClient(stack.devInfo.graphqlUrl, key);
      const { issueCertificate } = await client.ok<any>(ISSUE, { input: { collectionId, holderReference: email, title, recipientName: "Mei Chen", idempotencyKey: randomUUID() } });
      const done = await waitFor(async () => (await client.ok<any>(ISSUANCE, { id: issueCertificate.issuance.id })).issuance, (i) => i.status === "CONFIRMED" || i.status === "FAILED", 60_000);
      expect(done.error).toBeNull();
      return done.certificate.id as string;
    };
    certificatesOfA.push(await issue(stack.devInfo.apiKey, stack.devInfo.collectionId, "BSc Nursing"));
    certificatesOfB.push(await issue(keyB, createCollection.collection.id, "Vaccination record"));
  }, 240_000);
  afterAll(async () => {
    await stack?.cleanup();
    await sink?.close();
  });

  // Each test starts in a fresh rate-limit window: the earlier tests' requests are moved an hour back, as time would.
  beforeEach(async () => {
    await stack.db.db.update(holderEmailCodes).set({ createdAt: sql`${holderEmailCodes.createdAt} - interval '1 hour'` });
  });

  const codeFrom = (text: string) => /\b(\d{6})\b/.exec(text)![1]!;
  const signInByMail = async (address = email) => {
    const before = sink.messages().length;
    await anonymous().ok(REQUEST_CODE, { email: address });
    const mail = await sink.next(address, { after: before });
    const { holderEmailSignIn } = await anonymous().ok<any>(EMAIL_SIGN_IN, { email: address, code: codeFrom(mail.text) });
    return { token: holderEmailSignIn.token as string, client: graphqlClient(stack.devInfo.graphqlUrl, holderEmailSignIn.token) };
  };

  it("sends a code by e-mail over SMTP; the code signs in once, over HTTP with a cookie too", async () => {
    const before = sink.messages().length;
    const res = await fetch(`${base}/holder/email/code`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
    expect(res.status).toBe(200);
    const mail = await sink.next(email, { after: before });
    expect(mail.to).toEqual(["mei.chen@example.edu"]);
    expect(mail.from).toBe("no-reply@hallmark.test");
    const code = codeFrom(mail.text);
    expect(mail.subject).toContain(code);
    expect(mail.text).toContain(`${base}/holder`);

    const signIn = (c: string) => fetch(`${base}/holder/email/sign-in`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: " mei.chen@example.edu", code: c }) });
    const wrong = await signIn(code === "000000" ? "000001" : "000000");
    expect(wrong.status).toBe(401);
    const ok = await signIn(code);
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^hallmark_holder=[^;]+;/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    // Used: the same code again is refused.
    expect((await signIn(code)).status).toBe(401);

    const page = await (await fetch(`${base}/holder`, { headers: { cookie: cookie.split(";")[0]! } })).text();
    expect(page).toContain("mei.chen@example.edu");
    expect(page).toContain("BSc Nursing");
    expect(page).toContain("Vaccination record");
  });

  it("writes the e-mail in the reader's language: the page's, or the one GraphQL is asked for", async () => {
    let before = sink.messages().length;
    await fetch(`${base}/holder/email/code`, { method: "POST", headers: { "content-type": "application/json", "accept-language": "zh-CN,zh;q=0.9,en;q=0.5" }, body: JSON.stringify({ email }) });
    const zh = await sink.next(email, { after: before });
    expect(zh.subject).toMatch(/^\d{6} 是您的 Hallmark 登录验证码$/);
    expect(zh.text).toContain("请在 10 分钟内于");
    before = sink.messages().length;
    await anonymous().ok(`mutation($email: String!) { requestHolderEmailCode(email: $email, language: "en") { ... on HolderEmailCodeRequest { expiresAt } ${E} } }`, { email });
    const en = await sink.next(email, { after: before });
    expect(en.subject).toMatch(/^\d{6} is your Hallmark sign-in code$/);
    expect(en.text).toContain("within 10 minutes");
  });

  it("shows the holder what both institutions issued to the address, in GraphQL", async () => {
    const { client } = await signInByMail();
    const { holder } = await client.ok<any>(HOLDER);
    expect(holder).toMatchObject({ address: null, email: "mei.chen@example.edu" });
    expect(holder.custodialAccounts.map((a: any) => a.issuer).sort()).toEqual(["Demo University", "Second Hospital"]);
    expect(holder.certificates.map((c: any) => c.id).sort()).toEqual([...certificatesOfA, ...certificatesOfB].sort());
    expect(holder.certificates.every((c: any) => c.status === "VALID")).toBe(true);
  });

  it("answers an unknown address exactly as a known one, and sends it nothing", async () => {
    const known = await anonymous().raw(REQUEST_CODE, { email: "mei.chen@example.edu" });
    const unknown = await anonymous().raw(REQUEST_CODE, { email: "nobody@example.edu" });
    const shape = (b: any) => ({ status: b.status, keys: Object.keys(b.body.data.requestHolderEmailCode), errors: b.body.errors });
    expect(shape(unknown)).toEqual(shape(known));
    const before = sink.messages().length;
    await expect(sink.next("nobody@example.edu", { after: before, timeoutMs: 1_000 })).rejects.toThrow(/no mail/);
    // Timing: the answer never waits for the mail server, so a slow one does not set a known address apart.
    sink.slowDown(2_000);
    try {
      const t = performance.now();
      await anonymous().ok(REQUEST_CODE, { email });
      expect(performance.now() - t).toBeLessThan(1_000);
    } finally {
      sink.slowDown(0);
    }
    // No sign-in for an address nothing was issued to either: the code never arrived, and a guess is refused alike.
    const refused = await anonymous().fails(EMAIL_SIGN_IN, { email: "nobody@example.edu", code: "123456" });
    const refusedKnown = await anonymous().fails(EMAIL_SIGN_IN, { email: "mei.chen@example.edu", code: "12345x" });
    expect([refused.code, refused.message]).toEqual([refusedKnown.code, refusedKnown.message]);
  });

  it("limits requests per address and per client", async () => {
    const address = "limits@example.edu";
    for (let i = 0; i < 5; i++) await anonymous().ok(REQUEST_CODE, { email: address });
    const limited = await anonymous().fails(REQUEST_CODE, { email: address });
    expect(limited.code).toBe("RATE_LIMITED");
    const http = await fetch(`${base}/holder/email/code`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: address }) });
    expect(http.status).toBe(429);
    expect(http.headers.get("retry-after")).toMatch(/^\d+$/);
    // Per client: 30 requests in the window, whatever the addresses.
    for (let i = 0; i < 25; i++) await anonymous().ok(REQUEST_CODE, { email: `client-limit-${i}@example.edu` });
    expect((await anonymous().fails(REQUEST_CODE, { email: "one-more@example.edu" })).code).toBe("RATE_LIMITED");
  });

  it("refuses a code past its lifetime and after too many guesses", async () => {
    const { isNull } = await import("drizzle-orm");
    const address = "mei.chen@example.edu";
    // Expiry: the code is moved into the past as time would.
    const before = sink.messages().length;
    await anonymous().ok(REQUEST_CODE, { email: address });
    const code = codeFrom((await sink.next(address, { after: before })).text);
    await stack.db.db.update(holderEmailCodes).set({ expiresAt: sql`now() - interval '1 second'` }).where(isNull(holderEmailCodes.usedAt));
    expect((await anonymous().fails(EMAIL_SIGN_IN, { email: address, code })).code).toBe("UNAUTHENTICATED");
    // Five wrong guesses kill a live code: the right one is refused after them.
    const again = sink.messages().length;
    await anonymous().ok(REQUEST_CODE, { email: "Mei.Chen@example.edu" });
    const fresh = codeFrom((await sink.next(address, { after: again })).text);
    const wrong = fresh === "999999" ? "999998" : "999999";
    for (let i = 0; i < 5; i++) expect((await anonymous().fails(EMAIL_SIGN_IN, { email: address, code: wrong })).code).toBe("UNAUTHENTICATED");
    expect((await anonymous().fails(EMAIL_SIGN_IN, { email: address, code: fresh })).code).toBe("UNAUTHENTICATED");
  });

  it("hands the certificate to a wallet through OpenID4VCI 1.0 (pre-authorized code, tx_code) with an independent client", async () => {
    const { client } = await signInByMail();
    const { createCredentialOffer: made } = await client.ok<any>(OFFER, { id: certificatesOfA[0], tx: true });
    expect(made.uri).toMatch(/^openid-credential-offer:\/\/\?credential_offer=/);
    expect(made.txCode).toMatch(/^\d{6}$/);
    expect(made.qrSvg).toContain("<svg");

    setGlobalConfig({ allowInsecureUrls: true });
    const wallet = new Openid4vciClient({
      callbacks: {
        fetch,
        hash: (data: Uint8Array, alg: HashAlgorithm) => new Uint8Array(createHash(alg.replace("-", "").toLowerCase()).update(data).digest()),
        generateRandom: (n: number) => new Uint8Array(randomBytes(n)),
        clientAuthentication: clientAuthenticationAnonymous(),
        signJwt: async () => {
          throw new Error("no key proof is asked for this credential");
        },
      } as any,
    });
    const offer = await wallet.resolveCredentialOffer(made.uri);
    expect(offer.credential_configuration_ids).toEqual(["OpenBadgeCredential"]);
    const metadata = await wallet.resolveIssuerMetadata(offer.credential_issuer);
    // A wrong transaction code is refused; the right one yields the access token, once.
    await expect(wallet.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer: offer, issuerMetadata: metadata, txCode: made.txCode === "000000" ? "000001" : "000000" })).rejects.toThrow();
    const { accessTokenResponse } = await wallet.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer: offer, issuerMetadata: metadata, txCode: made.txCode });
    await expect(wallet.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer: offer, issuerMetadata: metadata, txCode: made.txCode })).rejects.toThrow();
    const response = await wallet.retrieveCredentials({ issuerMetadata: metadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: "OpenBadgeCredential" });
    const credential = (response.credentialResponse as any).credentials[0].credential;
    expect(credential.type).toContain("OpenBadgeCredential");
    expect(credential.chainRecord.id).toBe(`${base}/verify/${certificatesOfA[0]}`);

    // Hallmark's own verification of what the wallet received: the institution's signature, and this holder's certificate.
    const verdict = await (await fetch(`${base}/verify`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(credential) })).json();
    expect(verdict.verdict).toBe("VALID");
    const { holder } = await client.ok<any>(HOLDER);
    const custodial = holder.custodialAccounts.find((a: any) => a.issuer === "Demo University").address;
    expect(credential.credentialSubject.id.split(":").at(-1)).toBe(custodial);
    // The access token is spent.
    await expect(wallet.retrieveCredentials({ issuerMetadata: metadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: "OpenBadgeCredential" })).rejects.toThrow();
  });

  it("airdrops and redeems collectibles to an e-mail address, held in the same custodial account", async () => {
    const a = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(encodePng(24, 16, () => [30, 90, 160]))], { type: "image/png" }), "lamp.png");
    const media = (await (await fetch(`${base}/media`, { method: "POST", headers: { authorization: `Bearer ${stack.devInfo.apiKey}`, "x-graphql-csrf": "1" }, body: form })).json()) as any;
    const { createEdition } = await a.ok<any>(CREATE_EDITION, {
      input: { name: "Harbour lamp", description: "A museum keepsake.", images: [{ cid: media.cid, label: "The lamp" }], maxSupply: 10, transferPolicy: "LOCKED", idempotencyKey: "lamp" },
    });
    const edition = await waitFor(async () => (await a.ok<any>(EDITION, { id: createEdition.edition.id })).edition, (e) => e.status === "CONFIRMED" || e.status === "FAILED", 60_000);
    expect(edition.error).toBeNull();
    editionsOf.push({ id: createEdition.edition.id, contract: edition.contractAddress, chainEditionId: edition.chainEditionId });
    visitor = Wallet.createRandom().address;
    const { airdrop } = await a.ok<any>(AIRDROP, { input: { editionId: createEdition.edition.id, holders: [visitor], holderReferences: [" MEI.CHEN@example.edu"], idempotencyKey: "lamp-drop" } });
    const { holder } = await (await signInByMail()).client.ok<any>(HOLDER);
    const custodial = holder.custodialAccounts.find((x: any) => x.issuer === "Demo University").address;
    // Addresses first, then the references' custodial accounts: the one the certificates are held in.
    const holdersOf = async (id: string) => (await stack.db.db.select().from(editionOperations).where(eq(editionOperations.id, id)))[0]!.holders;
    expect(await holdersOf(airdrop.operation.id)).toEqual([visitor, custodial]);
    // The same request again (the reference spelled as before) is the same operation; a bad reference is refused.
    expect((await a.ok<any>(AIRDROP, { input: { editionId: createEdition.edition.id, holders: [visitor], holderReferences: [" MEI.CHEN@example.edu"], idempotencyKey: "lamp-drop" } })).airdrop.operation.id).toBe(airdrop.operation.id);
    expect((await a.fails(AIRDROP, { input: { editionId: createEdition.edition.id, holderReferences: [" "], idempotencyKey: "lamp-bad" } })).code).toBe("BAD_USER_INPUT");
    const { createClaimCodes } = await a.ok<any>(CODES, { input: { editionId: createEdition.edition.id, count: 1, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), idempotencyKey: "lamp-codes" } });
    const { redeemClaimCode } = await a.ok<any>(REDEEM, { input: { code: createClaimCodes.codes[0].code, holderReference: "mei.chen@example.edu", idempotencyKey: "lamp-redeem" } });
    expect(await holdersOf(redeemClaimCode.operation.id)).toEqual([custodial]);
    expect((await a.fails(REDEEM, { input: { code: createClaimCodes.codes[0].code, holder: visitor, holderReference: "mei.chen@example.edu", idempotencyKey: "lamp-both" } })).code).toBe("BAD_USER_INPUT");
    for (const op of [airdrop.operation, redeemClaimCode.operation]) {
      const done = await waitFor(async () => (await a.ok<any>(EDITION_OP, { id: op.id })).editionOperation, (o) => o.status === "CONFIRMED" || o.status === "FAILED", 60_000);
      expect(done.error).toBeNull();
    }
    const { client } = await signInByMail();
    const items = (await client.ok<any>(COLLECTIBLES)).holder.collectibles.filter((c: any) => c.edition === "Harbour lamp");
    expect(items.map((c: any) => c.serial).sort()).toEqual([2, 3]);
    // A GiftAfterLockup edition too: its item held in custody cannot be given away by anyone in the lockup.
    const { createEdition: gifts } = await a.ok<any>(CREATE_EDITION, {
      input: { name: "Harbour postcard", images: [{ cid: media.cid, label: "The card" }], maxSupply: 10, transferPolicy: "GIFT_AFTER_LOCKUP", lockupSeconds: 86_400, maxGifts: 1, idempotencyKey: "card" },
    });
    const card = await waitFor(async () => (await a.ok<any>(EDITION, { id: gifts.edition.id })).edition, (e) => e.status === "CONFIRMED" || e.status === "FAILED", 60_000);
    expect(card.error).toBeNull();
    editionsOf.push({ id: gifts.edition.id, contract: card.contractAddress, chainEditionId: card.chainEditionId });
    const { airdrop: cardDrop } = await a.ok<any>(AIRDROP, { input: { editionId: gifts.edition.id, holderReferences: ["mei.chen@example.edu"], idempotencyKey: "card-drop" } });
    expect((await waitFor(async () => (await a.ok<any>(EDITION_OP, { id: cardDrop.operation.id })).editionOperation, (o) => o.status === "CONFIRMED" || o.status === "FAILED", 60_000)).error).toBeNull();
    // On chain: the custodial items are marked in custody; the visitor's, airdropped to a wallet, is not.
    const provider = new JsonRpcProvider(stack.devInfo.rpcUrl, undefined, { staticNetwork: true });
    try {
      const contract = new Contract(edition.contractAddress, collectibleEditionsInterface(), provider);
      const lamp = await readEditionFromChain(provider, edition.contractAddress, BigInt(edition.chainEditionId));
      const cardItems = await readEditionFromChain(provider, card.contractAddress, BigInt(card.chainEditionId));
      for (const item of [...lamp.items, ...cardItems.items]) expect(await contract.inCustody!(item.tokenId)).toBe(item.holder === custodial);
      expect(lamp.items.map((i) => i.holder)).toEqual([visitor, custodial, custodial]);
      expect(cardItems.items.map((i) => i.holder)).toEqual([custodial]);
    } finally {
      provider.destroy();
    }
  });

  it("claims everything from both institutions to a wallet the holder proves with SIWE", async () => {
    const { client } = await signInByMail();
    const wallet = Wallet.createRandom();
    const { requestHolderSignIn } = await anonymous().ok<any>(CHALLENGE, { address: wallet.address });
    const signature = await wallet.signMessage(requestHolderSignIn.message);
    const { claimAllCustody } = await client.ok<any>(CLAIM_ALL, { nonce: requestHolderSignIn.nonce, signature });
    expect(claimAllCustody.address).toBe(wallet.address);
    expect(claimAllCustody.custodialAddresses).toHaveLength(2);
    expect(claimAllCustody.operations.map((o: any) => o.certificateId).sort()).toEqual([...certificatesOfA, ...certificatesOfB].sort());
    // Each institution reads its own move; both land in the wallet.
    for (const [key, op] of [
      [stack.devInfo.apiKey, claimAllCustody.operations.find((o: any) => certificatesOfA.includes(o.certificateId))],
      [keyB, claimAllCustody.operations.find((o: any) => certificatesOfB.includes(o.certificateId))],
    ] as const) {
      const done = await waitFor(async () => (await graphqlClient(stack.devInfo.graphqlUrl, key).ok<any>(OPERATION, { id: op.id })).certificateOperation, (o) => o.status === "CONFIRMED" || o.status === "FAILED", 60_000);
      expect(done.error).toBeNull();
      expect(done.newCertificate.owner).toBe(wallet.address);
    }
    // Nothing is left to claim, and the replayed signature is refused.
    expect((await client.fails(CLAIM_ALL, { nonce: requestHolderSignIn.nonce, signature })).code).toBe("UNAUTHENTICATED");
    const { holder } = await client.ok<any>(HOLDER);
    expect(holder.custodialAccounts.every((a: any) => a.claimedAddress === wallet.address)).toBe(true);

    // The collectibles follow: one release per edition (the Locked lamp's two items, the postcard's one), each
    // CONFIRMED once the chain shows the items in the wallet.
    expect(claimAllCustody.collectibles.map((r: any) => r.items).sort()).toEqual([1, 2]);
    const a = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    const releases = [];
    for (const r of claimAllCustody.collectibles) {
      const done = await waitFor(async () => (await a.ok<any>(EDITION_OP, { id: r.id })).editionOperation, (o) => o.status === "CONFIRMED" || o.status === "FAILED", 60_000);
      expect(done).toMatchObject({ kind: "RELEASE", status: "CONFIRMED", error: null, minted: r.items, total: r.items });
      expect(done.txHashes).toHaveLength(1);
      releases.push(done);
    }
    const custodialA = holder.custodialAccounts.find((x: any) => x.issuer === "Demo University").address;
    const provider = new JsonRpcProvider(stack.devInfo.rpcUrl, undefined, { staticNetwork: true });
    try {
      const [lamp, card] = editionsOf;
      const contract = new Contract(lamp!.contract, collectibleEditionsInterface(), provider);
      const onChain = async () => [
        ...(await readEditionFromChain(provider, lamp!.contract, BigInt(lamp!.chainEditionId))).items,
        ...(await readEditionFromChain(provider, card!.contract, BigInt(card!.chainEditionId))).items,
      ];
      const items = await onChain();
      expect(items.map((i) => i.holder)).toEqual([visitor, wallet.address, wallet.address, wallet.address]);
      for (const item of items) {
        expect(await contract.ownerOf!(item.tokenId)).toBe(item.holder);
        expect(await contract.inCustody!(item.tokenId)).toBe(false);
      }
      // Released, not gifted: the postcard's one gift is still there, and its lockup runs from the mint.
      const [postcard] = items.slice(-1);
      const erc5192 = new Contract(lamp!.contract, ["function locked(uint256 tokenId) view returns (bool)"], provider);
      expect(await erc5192.locked!(postcard!.tokenId)).toBe(true);
      // The contract refuses to release an item that was never in custody (the visitor's), or a released one again.
      const issuer = (await provider.getTransaction(releases[0]!.txHashes[0]))!.from;
      for (const [from, tokenId] of [
        [visitor, items[0]!.tokenId],
        [custodialA, items[1]!.tokenId],
        [wallet.address, items[1]!.tokenId],
      ] as const) {
        const data = collectibleEditionsInterface().encodeFunctionData("releaseFromCustody", [from, wallet.address, [tokenId]]);
        const refusal = await provider.call({ from: issuer, to: lamp!.contract, data }).then(
          () => "accepted",
          (err: any) => collectibleEditionsInterface().parseError(err.data)?.name,
        );
        expect(refusal).toBe("ItemNotInCustody");
      }

      // The holder's page and GraphQL show the items in the wallet, each with its release in its history.
      const held = (await client.ok<any>(COLLECTIBLES)).holder.collectibles.filter((c: any) => c.edition === "Harbour lamp" || c.edition === "Harbour postcard");
      expect(held.map((c: any) => c.serial).sort()).toEqual([1, 2, 3]);
      for (const c of held) expect(c.history.map((h: any) => [h.kind, h.to])).toEqual([["MINTED", custodialA], ["RELEASED", wallet.address]]);
      // The gallery names the wallet as the items' holder.
      const page = await (await fetch(`${base}/gallery/${lamp!.contract}/${lamp!.chainEditionId}`)).text();
      expect(page).toContain(wallet.address);
      expect(page).not.toContain(custodialA);

      // A second claim moves nothing: nothing is left in custody, the releases stay as they were, no item moves.
      const again = await anonymous().ok<any>(CHALLENGE, { address: wallet.address });
      expect((await client.fails(CLAIM_ALL, { nonce: again.requestHolderSignIn.nonce, signature: await wallet.signMessage(again.requestHolderSignIn.message) })).code).toBe("ALREADY_CLAIMED");
      const releaseRows = await stack.db.db.select().from(editionOperations).where(eq(editionOperations.kind, "RELEASE"));
      expect(releaseRows.map((r) => r.id).sort()).toEqual(claimAllCustody.collectibles.map((r: any) => r.id).sort());
      expect(releaseRows.every((r) => r.status === "CONFIRMED" && r.sent === r.total)).toBe(true);
      // The worker's editions loop runs every few hundred milliseconds: a second's worth of rounds moves nothing.
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await onChain()).map((i) => i.holder)).toEqual([visitor, wallet.address, wallet.address, wallet.address]);

      // A later airdrop to the address goes straight to the wallet, not into custody.
      const { airdrop } = await a.ok<any>(AIRDROP, { input: { editionId: lamp!.id, holderReferences: ["mei.chen@example.edu"], idempotencyKey: "lamp-after-claim" } });
      const op = await waitFor(async () => (await a.ok<any>(EDITION_OP, { id: airdrop.operation.id })).editionOperation, (o) => o.status === "CONFIRMED" || o.status === "FAILED", 60_000);
      expect(op.error).toBeNull();
      const [latest] = (await readEditionFromChain(provider, lamp!.contract, BigInt(lamp!.chainEditionId))).items.slice(-1);
      expect(latest!.holder).toBe(wallet.address);
      expect(await contract.inCustody!(latest!.tokenId)).toBe(false);
    } finally {
      provider.destroy();
    }
  });
});
