import { createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { Custody } from "../custody/custody-secret.ts";
import type { Database } from "../db/index.ts";
import { certificates, credentialOffers } from "../db/schema.ts";
import { OperationError } from "../operations/errors.ts";
import { hashSecret } from "../secret-hash.ts";
import { CREDENTIALS_V2, OPEN_BADGES_V3 } from "../credentials/context.ts";

/**
 * OpenID for Verifiable Credential Issuance 1.0 (final), pre-authorized code flow: Hallmark is both the Credential
 * Issuer and its own authorization server, and hands the wallet the Open Badges 3.0 credential it already exports
 * (`ldp_vc`, signed eddsa-rdfc-2022 by the institution). The credential names its holder by their chain account
 * (did:pkh), which is what the chain and every verifier check; a wallet key would bind nothing the verifier reads, so
 * the configuration asks no key proof (no `proof_types_supported`, hence no nonce endpoint, spec §8.2 and §12.2.4):
 * the single-use, short-lived pre-authorized code (and transaction code, when asked) is what authorizes the wallet.
 */
export const CREDENTIAL_CONFIGURATION_ID = "OpenBadgeCredential";
export const PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
export const OFFER_SCHEME = "openid-credential-offer://";

/** Paths under the issuer's origin. */
export const OID4VCI_PATHS = {
  issuerMetadata: "/.well-known/openid-credential-issuer",
  authorizationServerMetadata: "/.well-known/oauth-authorization-server",
  token: "/oid4vci/token",
  credential: "/oid4vci/credential",
} as const;

export const OFFER_LIMITS = { defaultTtlMinutes: 15, holderMaxTtlMinutes: 60, institutionMaxTtlMinutes: 7 * 24 * 60, accessTokenTtlMs: 5 * 60_000, txCodeAttempts: 5 } as const;
const TX_CODE_LENGTH = 6;

/** Credential Issuer Metadata (§12.2): one configuration, the Open Badges 3.0 credential as a Data Integrity `ldp_vc`. */
export function issuerMetadata(base: string): Record<string, unknown> {
  return {
    credential_issuer: base,
    credential_endpoint: `${base}${OID4VCI_PATHS.credential}`,
    display: [
      { name: "Hallmark", locale: "en" },
      { name: "Hallmark", locale: "zh-CN" },
    ],
    credential_configurations_supported: {
      [CREDENTIAL_CONFIGURATION_ID]: {
        format: "ldp_vc",
        credential_definition: { "@context": [CREDENTIALS_V2, OPEN_BADGES_V3], type: ["VerifiableCredential", "OpenBadgeCredential"] },
        credential_signing_alg_values_supported: ["eddsa-rdfc-2022"],
        credential_metadata: {
          display: [
            { name: "Certificate", locale: "en", description: "A certificate issued on Hallmark (Open Badges 3.0)" },
            { name: "证书", locale: "zh-CN", description: "在 Hallmark 上签发的证书（Open Badges 3.0）" },
          ],
        },
      },
    },
  };
}

/** OAuth 2.0 Authorization Server Metadata (RFC 8414) of the issuer acting as its own authorization server. */
export function authorizationServerMetadata(base: string): Record<string, unknown> {
  return {
    issuer: base,
    token_endpoint: `${base}${OID4VCI_PATHS.token}`,
    grant_types_supported: [PRE_AUTHORIZED_GRANT],
    "pre-authorized_grant_anonymous_access_supported": true,
    token_endpoint_auth_methods_supported: ["none"],
    response_types_supported: [],
  };
}

function txCodeHash(custody: Custody, offerCodeHash: string, txCode: string): Buffer {
  // Keyed: a 6-digit code's plain hash would fall to a table of a million entries.
  return createHmac("sha256", custody.secret()).update(`hallmark/oid4vci-tx-code/v1\0${offerCodeHash}\0${txCode}`).digest();
}

export interface NewCredentialOffer {
  /** The offer object (§4.1.1), also carried by value in `uri`. */
  offer: Record<string, unknown>;
  /** `openid-credential-offer://?credential_offer=…`: the deep link a wallet opens, and what the QR code holds. */
  uri: string;
  /** Shown once, to be given to the holder apart from the offer (another channel); null when none was asked. */
  txCode: string | null;
  expiresAt: Date;
}

/**
 * Makes a credential offer for one certificate. Only the hashes of the pre-authorized code and the transaction code
 * are kept; the answer is the only place they appear. The certificate must be VALID now; the credential endpoint
 * checks the chain again when the wallet comes.
 */
export async function createCredentialOffer(
  deps: { db: Database; custody: Custody },
  input: { certificateId: string; base: string; offeredBy: string; txCode: boolean; ttlMinutes?: number | null; maxTtlMinutes: number },
  now = new Date(),
): Promise<NewCredentialOffer> {
  const ttl = input.ttlMinutes ?? OFFER_LIMITS.defaultTtlMinutes;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > input.maxTtlMinutes) {
    throw new OperationError("BAD_USER_INPUT", `expiresInMinutes must be a whole number from 1 to ${input.maxTtlMinutes}`, "expiresInMinutes");
  }
  const [certificate] = await deps.db.select({ status: certificates.status }).from(certificates).where(eq(certificates.id, input.certificateId));
  if (!certificate) throw new OperationError("NOT_FOUND", `no certificate "${input.certificateId}"`, "certificateId");
  if (certificate.status !== "VALID") throw new OperationError("CERTIFICATE_NOT_ACTIVE", `the certificate is ${certificate.status.toLowerCase()}: only a valid one goes into a wallet`, "certificateId");
  const code = randomBytes(32).toString("base64url");
  const codeHash = hashSecret(`hallmark/oid4vci-code/v1\0${code}`);
  const txCode = input.txCode ? String(randomInt(0, 10 ** TX_CODE_LENGTH)).padStart(TX_CODE_LENGTH, "0") : null;
  const expiresAt = new Date(now.getTime() + ttl * 60_000);
  await deps.db.insert(credentialOffers).values({
    certificateId: input.certificateId,
    preAuthorizedCodeHash: codeHash,
    txCodeHash: txCode ? txCodeHash(deps.custody, codeHash, txCode).toString("hex") : null,
    offeredBy: input.offeredBy,
    expiresAt,
  });
  const grant: Record<string, unknown> = { "pre-authorized_code": code };
  if (txCode) grant.tx_code = { input_mode: "numeric", length: TX_CODE_LENGTH, description: "The 6-digit code shown with this offer" };
  const offer = { credential_issuer: input.base, credential_configuration_ids: [CREDENTIAL_CONFIGURATION_ID], grants: { [PRE_AUTHORIZED_GRANT]: grant } };
  return { offer, uri: `${OFFER_SCHEME}?credential_offer=${encodeURIComponent(JSON.stringify(offer))}`, txCode, expiresAt };
}

/** An OAuth error as the token and credential endpoints answer it (RFC 6749 §5.2, OID4VCI §8.3.1.2). */
export class OAuthError extends Error {
  override name = "OAuthError";
  readonly error: string;
  readonly description: string;
  readonly status: number;
  constructor(error: string, description: string, status = 400) {
    super(description);
    this.error = error;
    this.description = description;
    this.status = status;
  }
}

/**
 * The token endpoint's grant (§6.1): spends the pre-authorized code, checking the transaction code when the offer
 * has one (wrong guesses counted; past the limit the offer is dead), and answers an access token, kept hashed.
 */
export async function redeemPreAuthorizedCode(
  deps: { db: Database; custody: Custody },
  input: { grantType: string; code: string; txCode?: string },
  now = new Date(),
): Promise<{ accessToken: string; expiresIn: number }> {
  if (input.grantType !== PRE_AUTHORIZED_GRANT) throw new OAuthError("unsupported_grant_type", "only the pre-authorized code grant is supported");
  if (!input.code || input.code.length > 200) throw new OAuthError("invalid_request", "pre-authorized_code is required");
  const codeHash = hashSecret(`hallmark/oid4vci-code/v1\0${input.code}`);
  const invalid = () => new OAuthError("invalid_grant", "the pre-authorized code is unknown, expired or already used");
  // A guess at the transaction code is counted before it is checked, in the statement that finds the offer, so
  // racing guesses are bounded too; an offer without a transaction code counts nothing.
  const [offer] = await deps.db
    .update(credentialOffers)
    .set({ txCodeAttempts: sql`${credentialOffers.txCodeAttempts} + (case when ${credentialOffers.txCodeHash} is null then 0 else 1 end)` })
    .where(
      and(
        eq(credentialOffers.preAuthorizedCodeHash, codeHash),
        isNull(credentialOffers.redeemedAt),
        gt(credentialOffers.expiresAt, now),
        lt(credentialOffers.txCodeAttempts, OFFER_LIMITS.txCodeAttempts),
      ),
    )
    .returning();
  if (!offer) throw invalid();
  if (offer.txCodeHash && !timingSafeEqual(Buffer.from(offer.txCodeHash, "hex"), txCodeHash(deps.custody, codeHash, String(input.txCode ?? "")))) {
    throw new OAuthError("invalid_grant", "the transaction code is wrong");
  }
  const accessToken = randomBytes(32).toString("base64url");
  // Spent in the statement that checks it is still unspent: of two requests with the code, one gets a token.
  const [spent] = await deps.db
    .update(credentialOffers)
    .set({ redeemedAt: now, accessTokenHash: hashSecret(`hallmark/oid4vci-token/v1\0${accessToken}`), accessTokenExpiresAt: new Date(now.getTime() + OFFER_LIMITS.accessTokenTtlMs) })
    .where(and(eq(credentialOffers.id, offer.id), isNull(credentialOffers.redeemedAt)))
    .returning({ id: credentialOffers.id });
  if (!spent) throw invalid();
  return { accessToken, expiresIn: Math.round(OFFER_LIMITS.accessTokenTtlMs / 1000) };
}

/**
 * The credential endpoint's authorization: the certificate an access token was granted for. The token is spent
 * (one credential per offer), in the same statement that checks it, so two requests with it cannot both pass.
 */
export async function spendAccessToken(db: Database, accessToken: string, now = new Date()): Promise<{ offerId: string; certificateId: string }> {
  const [offer] = await db
    .update(credentialOffers)
    .set({ issuedAt: now })
    .where(
      and(
        eq(credentialOffers.accessTokenHash, hashSecret(`hallmark/oid4vci-token/v1\0${accessToken}`)),
        isNull(credentialOffers.issuedAt),
        gt(credentialOffers.accessTokenExpiresAt, now),
      ),
    )
    .returning({ offerId: credentialOffers.id, certificateId: credentialOffers.certificateId });
  if (!offer) throw new OAuthError("invalid_token", "the access token is unknown, expired or already used", 401);
  return offer;
}

/** Gives an access token back when the credential could not be made (chain unreachable): the wallet may retry. */
export async function releaseAccessToken(db: Database, offerId: string): Promise<void> {
  await db.update(credentialOffers).set({ issuedAt: null }).where(eq(credentialOffers.id, offerId));
}

