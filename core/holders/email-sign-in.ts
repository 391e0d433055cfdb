import { createHash, createHmac, randomInt, timingSafeEqual } from "node:crypto";
import { and, count, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { holderEmailCodes } from "../db/schema.ts";
import { OperationError } from "../operations/errors.ts";
import type { Custody } from "../custody/custody-secret.ts";
import { accountsOfReference, holderKeyOf, normalizeHolderReference } from "../custody/holder-accounts.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { Logger } from "../logger.ts";
import { translator } from "../i18n/translator.ts";
import { DEFAULT_LOCALE, type Locale } from "../i18n/locales.ts";

/**
 * How long a code works, how many wrong guesses kill it, and how many may be asked for per address and per client
 * (0: no per-client limit, for clients that share one address, such as a museum's visitors behind one gateway).
 */
export interface EmailCodePolicy {
  ttlMs: number;
  maxAttempts: number;
  windowMs: number;
  perAddress: number;
  perClient: number;
}

export const EMAIL_CODE_POLICY: EmailCodePolicy = { ttlMs: 10 * 60_000, maxAttempts: 5, windowMs: 15 * 60_000, perAddress: 5, perClient: 30 };

/** The policy with the configured per-client limit (HOLDER_EMAIL_CODES_PER_CLIENT). */
export function emailCodePolicy(perClient: number): EmailCodePolicy {
  return { ...EMAIL_CODE_POLICY, perClient };
}

/** 6 digits: easy to type from a phone; a guess has 1 chance in 10^6, and a code dies after `maxAttempts` of them. */
const CODE_DIGITS = 6;

export interface EmailSignInDeps {
  db: Database;
  custody: Custody;
  /** Absent: e-mail sign-in is off (no SMTP_URL). */
  mailer?: Mailer;
  logger: Logger;
  /** Where the holder enters the code (`<origin>/holder`), named in the e-mail. */
  signInUrl: string;
  policy?: EmailCodePolicy;
}

/** An e-mail address as sign-in takes it: one `@`, something on each side, a dot in the domain, no spaces. */
export function parseEmail(value: string, field = "email"): string {
  const v = normalizeHolderReference(String(value ?? ""), field);
  if (v.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/u.test(v)) throw new OperationError("BAD_USER_INPUT", `${field} is not an e-mail address`, field);
  return v;
}

/** Keyed with the custody secret: a 6-digit code's plain hash would fall to a table of a million entries. */
function codeHash(custody: Custody, holderKey: string, code: string): Buffer {
  return createHmac("sha256", custody.secret()).update(`hallmark/holder-email-code/v1\0${holderKey}\0${code}`).digest();
}

/** The client as the per-client limit counts it; its address is not kept. */
export function clientHashOf(client: string): string {
  return createHash("sha256").update(`hallmark/client/v1\0${client}`).digest("hex");
}

/**
 * Sends a one-time sign-in code to `email` when any institution has issued to it, and answers the same either way:
 * the same work is done (the look-up, a stored code, the limits), and the e-mail is sent after the answer, so
 * neither the answer nor its timing tells whether the address is known. RATE_LIMITED past the per-address or
 * per-client limit, counted over every request, known or not.
 */
export async function requestEmailCode(deps: EmailSignInDeps, input: { email: string; client: string; locale?: Locale }, now = new Date()): Promise<{ expiresAt: Date }> {
  const policy = deps.policy ?? EMAIL_CODE_POLICY;
  if (!deps.mailer) throw new OperationError("FORBIDDEN", "e-mail sign-in is not configured on this server (SMTP_URL)");
  const email = parseEmail(input.email);
  const holderKey = holderKeyOf(deps.custody, email);
  const clientHash = clientHashOf(input.client);
  const since = new Date(now.getTime() - policy.windowMs);
  const [[byAddress], [byClient]] = await Promise.all([
    deps.db.select({ n: count() }).from(holderEmailCodes).where(and(eq(holderEmailCodes.holderKey, holderKey), gt(holderEmailCodes.createdAt, since))),
    deps.db.select({ n: count() }).from(holderEmailCodes).where(and(eq(holderEmailCodes.clientHash, clientHash), gt(holderEmailCodes.createdAt, since))),
  ]);
  if (byAddress!.n >= policy.perAddress || (policy.perClient > 0 && byClient!.n >= policy.perClient)) {
    throw new OperationError("RATE_LIMITED", "too many sign-in codes asked for; wait a few minutes and try again", "email", {
      retryAfterSeconds: Math.ceil(policy.windowMs / 1000),
    });
  }
  const accounts = await accountsOfReference(deps.db, deps.custody, email);
  const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, "0");
  const expiresAt = new Date(now.getTime() + policy.ttlMs);
  await deps.db.insert(holderEmailCodes).values({ holderKey, codeHash: codeHash(deps.custody, holderKey, code).toString("hex"), clientHash, expiresAt, createdAt: now });
  if (accounts.length) {
    const minutes = Math.round(policy.ttlMs / 60_000);
    // In the language of the page (or client) that asked: the holder reads it there.
    const t = translator(input.locale ?? DEFAULT_LOCALE);
    // Not awaited: the answer must not wait for SMTP, or its timing would tell a known address from an unknown one.
    deps.mailer
      .send({ to: email, subject: t.t("holder.mail.subject", { code }), text: t.t("holder.mail.text", { code, minutes, url: deps.signInUrl }) })
      .catch((err: unknown) => deps.logger.error({ err }, "the sign-in code e-mail could not be sent"));
  }
  return { expiresAt };
}

export class EmailCodeError extends Error {
  override name = "EmailCodeError";
}

/**
 * Checks a code against every live code of the address (a holder who asked twice may type either), counting one
 * attempt against each first, so guesses are bounded even when they race; compares in constant time and spends the
 * code that matched. Answers the same refusal for a wrong, expired, spent or unknown code, known address or not.
 */
export async function verifyEmailCode(deps: Pick<EmailSignInDeps, "db" | "custody" | "policy">, input: { email: string; code: string }, now = new Date()): Promise<{ email: string; holderKey: string }> {
  const policy = deps.policy ?? EMAIL_CODE_POLICY;
  const refused = () => new EmailCodeError("this code is wrong, expired or already used: ask for a new one");
  let email: string;
  try {
    email = parseEmail(input.email);
  } catch {
    throw refused();
  }
  const code = String(input.code ?? "").replace(/\s+/gu, "");
  const holderKey = holderKeyOf(deps.custody, email);
  const given = codeHash(deps.custody, holderKey, /^\d{6}$/u.test(code) ? code : "invalid");
  const live = await deps.db
    .update(holderEmailCodes)
    .set({ attempts: sql`${holderEmailCodes.attempts} + 1` })
    .where(and(eq(holderEmailCodes.holderKey, holderKey), isNull(holderEmailCodes.usedAt), gt(holderEmailCodes.expiresAt, now), lt(holderEmailCodes.attempts, policy.maxAttempts)))
    .returning({ id: holderEmailCodes.id, codeHash: holderEmailCodes.codeHash });
  // Every live code is compared, whatever matched first: the time taken does not say which one did.
  let match: string | undefined;
  for (const row of live) if (timingSafeEqual(Buffer.from(row.codeHash, "hex"), given) && /^\d{6}$/u.test(code)) match ??= row.id;
  if (!match) throw refused();
  const spent = await deps.db
    .update(holderEmailCodes)
    .set({ usedAt: now })
    .where(and(inArray(holderEmailCodes.id, [match]), isNull(holderEmailCodes.usedAt)))
    .returning({ id: holderEmailCodes.id });
  if (!spent.length) throw refused();
  return { email, holderKey };
}
