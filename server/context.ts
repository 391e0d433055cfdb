import type { Provider } from "ethers";
import type { Database } from "../core/db/index.ts";
import type { Custody } from "../core/custody/custody-secret.ts";
import type { QuotaLimits } from "../core/quotas.ts";
import type { IpfsStore } from "../core/ipfs/index.ts";
import type { LiveFeed, LiveSink } from "../core/live/index.ts";
import type { Logger } from "../core/logger.ts";
import type { Verifier } from "../core/verification/index.ts";
import type { WebhookSettings } from "../core/webhooks/settings.ts";
import type { Caller } from "./auth/caller.ts";
import type { TxtLookup } from "../core/identity/domain-proof.ts";
import type { Mailer } from "../core/mail/mailer.ts";
import type { EmailCodePolicy } from "../core/holders/email-sign-in.ts";

/** Built once per request. */
export interface Context {
  db: Database;
  ipfs: IpfsStore;
  logger: Logger;
  /** Verifies certificates against the chain and IPFS (public). */
  verifier: Verifier;
  /** JSON-RPC to the configured chain (operator reads such as chainRoles); absent when none is configured. */
  chain?: Provider;
  /** Absent for anonymous requests. */
  caller?: Caller;
  /** Live state changes from Redis, for subscriptions; without it they follow the database alone. */
  live?: LiveFeed;
  /** Where state changes the server makes itself are told once committed (an approval that queues an operation). */
  liveSink?: LiveSink;
  /** The address of a holder signed in with Ethereum (`Authorization: Bearer hs_…`); never set with `caller`. */
  holder?: string;
  /** A holder without a wallet signed in by e-mail (`Authorization: Bearer hs_…` from `holderEmailSignIn`); never set with `caller` or `holder`. */
  emailHolder?: { holderKey: string; email: string };
  /** The requesting client's address (per-client limits). */
  client: string;
  /** The request's Accept-Language, for what it has sent in the reader's language (a sign-in e-mail). */
  acceptLanguage?: string;
  /** Sends e-mail (SMTP_URL); absent, e-mail sign-in is off. */
  mailer?: Mailer;
  /** Sign-in codes by e-mail: lifetime, guesses and limits. */
  emailCodes: EmailCodePolicy;
  /** What Sign-In with Ethereum messages are bound to: this site's origin and the chain. */
  siwe: { origin: string; chainId: number };
  /** CollectibleEditions contracts whose items holders are shown. */
  collectibleContracts: string[];
  /** The custody secret's keys: custodial accounts of holder references, and the sealing of stored secrets. */
  custody: Custody;
  /** Which webhook targets registration accepts, and how many per institution. */
  webhooks: WebhookSettings;
  /** The platform's default quotas (QUOTA_* settings), which an institution's overrides refine. */
  quotas: QuotaLimits;
  /**
   * Institutions' issuer identity: the origin platform-hosted DIDs are named after, the DNS look-ups of domain
   * proofs (DNS_SERVERS), and the entry a proof must name: this chain and the trusted issuer registry.
   */
  identity: { publicOrigin: string; dnsLookup: TxtLookup; chainId: number; issuerRegistry?: string };
}

/** Whose idempotency keys a request's are: its institution's, the operator's, or the signed-in holder's. */
export function keyScope(ctx: Context): string {
  if (ctx.caller?.operator) return "operator";
  if (ctx.caller) return `institution:${ctx.caller.institutionId}`;
  if (ctx.holder) return `holder:${ctx.holder}`;
  if (ctx.emailHolder) return `holder-email:${ctx.emailHolder.holderKey}`;
  return "anonymous";
}
