import { randomBytes } from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import { verifyMessage } from "ethers";
import type { Database } from "../../core/db/index.ts";
import { holderSessions, holderSignIns } from "../../core/db/schema.ts";
import { parseAddress } from "../../core/operations/validate.ts";
import { hashSecret } from "../../core/secret-hash.ts";
import { sealSecret } from "../../core/custody/sealed.ts";
import type { SealingKeyring } from "../../core/custody/sealing-keys.ts";

const MESSAGE_TTL_MS = 10 * 60_000;
const SESSION_TTL_MS = 12 * 60 * 60_000;
export const SESSION_COOKIE = "hallmark_holder";

export class SignInError extends Error {
  override name = "SignInError";
}

/**
 * An EIP-4361 (Sign-In with Ethereum) message for `address`, bound to this site's domain and URI, with a fresh
 * single-use nonce. It is stored as issued so the signature is later checked against these exact bytes.
 */
export async function createSignInMessage(
  db: Database,
  opts: { address: string; origin: string; chainId: number; now?: Date },
): Promise<{ message: string; nonce: string }> {
  let address: string;
  try {
    // The rule of every address the API takes (core/operations/validate.ts): EIP-55 when mixed-case, never zero.
    address = parseAddress(opts.address, "address");
  } catch (err) {
    throw new SignInError(err instanceof Error ? err.message : "not an Ethereum address");
  }
  const url = new URL(opts.origin);
  const now = opts.now ?? new Date();
  const expiresAt = new Date(now.getTime() + MESSAGE_TTL_MS);
  const nonce = randomBytes(12).toString("hex");
  const message = [
    `${url.host} wants you to sign in with your Ethereum account:`,
    address,
    "",
    "Sign in to see the certificates you hold. This request costs nothing and sends no transaction.",
    "",
    `URI: ${url.origin}/holder`,
    "Version: 1",
    `Chain ID: ${opts.chainId}`,
    `Nonce: ${nonce}`,
    `Issued At: ${now.toISOString()}`,
    `Expiration Time: ${expiresAt.toISOString()}`,
  ].join("\n");
  await db.insert(holderSignIns).values({ nonce, address, message, expiresAt });
  return { message, nonce };
}

/**
 * Checks the signature over the message issued for `nonce`, spends the nonce, and answers the address that signed:
 * what signing in, and a holder signed in by e-mail naming their wallet, both rest on. The nonce is spent in the
 * same statement that checks it, so a replayed signature finds it gone.
 */
export async function proveWallet(db: Database, opts: { nonce: string; signature: string; now?: Date }): Promise<string> {
  const now = opts.now ?? new Date();
  const [issued] = await db
    .update(holderSignIns)
    .set({ usedAt: now })
    .where(and(eq(holderSignIns.nonce, String(opts.nonce)), isNull(holderSignIns.usedAt), gt(holderSignIns.expiresAt, now)))
    .returning();
  if (!issued) throw new SignInError("this sign-in request is unknown, expired or already used: start again");
  let signer: string;
  try {
    signer = verifyMessage(issued.message, String(opts.signature));
  } catch {
    throw new SignInError("the signature is malformed");
  }
  if (signer !== issued.address) throw new SignInError("the message was not signed by the account it names");
  return signer;
}

/**
 * Checks the signature over the message issued for `nonce`, spends the nonce, and opens a session for the address
 * that signed.
 */
export async function signIn(db: Database, opts: { nonce: string; signature: string; now?: Date }): Promise<{ address: string; token: string; expiresAt: Date }> {
  const now = opts.now ?? new Date();
  const signer = await proveWallet(db, opts);
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await db.insert(holderSessions).values({ tokenHash: hash(token), address: signer, expiresAt });
  return { address: signer, token, expiresAt };
}

/** Opens a session for a holder who proved their e-mail address with a one-time code. */
export async function openEmailSession(db: Database, keyring: SealingKeyring, opts: { email: string; holderKey: string; now?: Date }): Promise<{ token: string; expiresAt: Date }> {
  const now = opts.now ?? new Date();
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await db.insert(holderSessions).values({ tokenHash: hash(token), holderKey: opts.holderKey, emailSealed: sealSecret(opts.email, keyring), expiresAt });
  return { token, expiresAt };
}

/** Who a session is: an account signed in with Ethereum, or a holder signed in by e-mail. */
export type HolderSession = { kind: "wallet"; address: string } | { kind: "email"; holderKey: string; emailSealed: string };

/** The session a token (cookie or `hs_` bearer token) opens, while it lasts. */
export async function sessionOf(db: Database, token: string | undefined): Promise<HolderSession | undefined> {
  if (!token) return undefined;
  const [row] = await db.select().from(holderSessions).where(and(eq(holderSessions.tokenHash, hash(token)), gt(holderSessions.expiresAt, new Date())));
  if (!row) return undefined;
  if (row.address) return { kind: "wallet", address: row.address };
  if (row.holderKey && row.emailSealed) return { kind: "email", holderKey: row.holderKey, emailSealed: row.emailSealed };
  return undefined;
}

/** API clients carry a holder session as `Authorization: Bearer hs_<token>` (API keys start `hm_`). */
export const HOLDER_TOKEN_PREFIX = "hs_";

/** The session token in an Authorization header, when it carries a holder session rather than an API key. */
export function holderSessionToken(header: string | null): string | undefined {
  const m = /^Bearer\s+hs_(\S+)$/i.exec(header ?? "");
  return m ? m[1] : undefined;
}

/** The account a session token signed in with Ethereum belongs to, while the session lasts. */
export async function sessionHolder(db: Database, token: string | undefined): Promise<string | undefined> {
  const session = await sessionOf(db, token);
  return session?.kind === "wallet" ? session.address : undefined;
}

export async function signOut(db: Database, token: string | undefined): Promise<void> {
  if (token) await db.delete(holderSessions).where(eq(holderSessions.tokenHash, hash(token)));
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

const hash = hashSecret;
