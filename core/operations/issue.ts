import { randomUUID } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { issuances, outbox, personalDisclosures } from "../db/schema.ts";
import { canonicalJson } from "../metadata/canonical-json.ts";
import { withholdPersonalData } from "../metadata/certificate.ts";
import type { Disclosure } from "../metadata/personal-data.ts";
import { newShareToken } from "./personal-data.ts";
import { OperationError } from "./errors.ts";
import { requestIdFor } from "./request-id.ts";
import { parseAddress, parseCertificateFields, parseIdempotencyKey, type RawCertificateInput } from "./validate.ts";
import { chargeIssuances, type QuotaLimits } from "../quotas.ts";
import { assertMayIssue } from "./may-issue.ts";
import type { Custody } from "../custody/custody-secret.ts";
import { recordHolderAccounts, resolveHolderReferences, type ReferenceTarget } from "../custody/holder-accounts.ts";
import { applyTemplate, currentTemplate } from "./template.ts";
import { issuableCollection } from "./collections.ts";
import { idempotencyConflict, requestHash } from "./idempotency.ts";

export type Issuance = typeof issuances.$inferSelect;

export interface IssueCertificateInput extends RawCertificateInput {
  collectionId: string;
  /** The holder's address; or else `holderReference`, exactly one of them. */
  recipient?: string | null;
  /** The institution's own reference for a holder without a wallet (student number, e-mail): held in custody for them. */
  holderReference?: string | null;
  idempotencyKey: string;
  /** Values of the collection's template fields, key → value; only for a collection with a template. */
  fields?: unknown;
  /** Names of attributes that are personal data: the public document carries only their salted digests. */
  personalAttributes?: string[] | null;
}

export interface BatchItemResult {
  index: number;
  issuance?: Issuance;
  created: boolean;
  error?: OperationError;
}

/**
 * What a request to issue needs besides its input: the database, the custody secret (holder references become
 * custodial accounts) and the platform's default quotas (`config.quotas`), which the institution's overrides refine.
 */
export interface IssueDeps {
  db: Database;
  custody: Custody;
  quotas: QuotaLimits;
}

/**
 * Records many issuances into one collection, each with its outbox entry, in one transaction with a fixed number
 * of statements. Every item gets its own result: a bad item is reported, never fails the rest; an item whose
 * idempotency key was seen before names the earlier issuance (or a conflict, when its request differs).
 */
export async function requestIssuanceBatch(
  deps: IssueDeps,
  institutionId: string,
  collectionId: string,
  items: Omit<IssueCertificateInput, "collectionId">[],
  bulkId?: string,
  /** Held for approval (a bulk issuance under a policy): recorded AWAITING_APPROVAL, nothing queued yet. */
  held = false,
): Promise<BatchItemResult[]> {
  const { db, custody, quotas } = deps;
  const collection = await issuableCollection(db, institutionId, collectionId);
  await assertMayIssue(db, institutionId);
  const targets = await resolveHolderReferences(db, custody, institutionId, items);
  const template = (await currentTemplate(db, collection.id))?.fields ?? null;
  const templatePersonal = (template ?? []).filter((f) => f.personal && f.shown).map((f) => f.label);

  const results: BatchItemResult[] = items.map((_, index) => ({ index, created: false }));
  const rows: (typeof issuances.$inferInsert & { index: number; disclosures: Disclosure[] })[] = [];
  const seenKeys = new Set<string>();
  items.forEach((input, index) => {
    try {
      const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
      if (seenKeys.has(idempotencyKey)) throw new OperationError("IDEMPOTENCY_CONFLICT", "idempotencyKey repeated within the batch", "idempotencyKey");
      seenKeys.add(idempotencyKey);
      const target = targets.get(index);
      if (target instanceof OperationError) throw target;
      const recipient = target ? target.recipient : parseAddress(input.recipient!, "recipient");
      const document = applyTemplate(template, input.fields, parseCertificateFields(input, collection.name));
      // By reference, the request names the holder, not the address it resolves to (which changes once claimed).
      const personal = new Set([...templatePersonal, ...parsePersonalAttributes(input.personalAttributes, document)]);
      // Hashed before the salts are drawn, so a retry of the same request is recognised as the same.
      const requestHash = hashRequest(collection.id, target ? `holder:${target.referenceHash}` : recipient, personal.size ? { document, personal: [...personal].sort() } : document);
      const withheld = withholdPersonalData(document, personal);
      const id = randomUUID();
      rows.push({
        index,
        id,
        institutionId,
        collectionId: collection.id,
        idempotencyKey,
        requestHash,
        requestId: requestIdFor(id),
        recipient,
        document: withheld.fields as unknown as Record<string, unknown>,
        bulkId,
        ...(held ? { status: "AWAITING_APPROVAL" as const } : {}),
        disclosures: withheld.disclosures,
      });
    } catch (err) {
      if (!(err instanceof OperationError)) throw err;
      results[index]!.error = err;
    }
  });
  if (!rows.length) return results;
  await recordHolderAccounts(
    db,
    institutionId,
    rows.map((r) => targets.get(r.index)).filter((t): t is ReferenceTarget => !!t && !(t instanceof OperationError)),
  );

  await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(issuances)
      .values(rows.map(({ index: _, disclosures: __, ...row }) => row))
      .onConflictDoNothing({ target: [issuances.institutionId, issuances.idempotencyKey] })
      .returning();
    const byKey = new Map(inserted.map((r) => [r.idempotencyKey, r]));
    // Only new issuances count; a refused charge rolls the whole request back (QUOTA_EXCEEDED).
    const contentBytes = inserted.reduce((n, r) => n + Buffer.byteLength(canonicalJson(r.document)), 0);
    await chargeIssuances(tx, quotas, institutionId, inserted.length, contentBytes);
    const disclosed = rows.filter((r) => byKey.get(r.idempotencyKey)?.id === r.id && r.disclosures.length);
    if (disclosed.length) {
      await tx.insert(personalDisclosures).values(disclosed.map((r) => ({ issuanceId: r.id!, institutionId, disclosures: r.disclosures, shareToken: newShareToken() })));
    }
    if (inserted.length && !held) {
      await tx.insert(outbox).values(inserted.map((r) => ({ topic: "issue-certificate", payload: { issuanceId: r.id } })));
    }
    const repeated = rows.filter((r) => !byKey.has(r.idempotencyKey));
    const earlier = repeated.length
      ? await tx
          .select()
          .from(issuances)
          .where(and(eq(issuances.institutionId, institutionId), inArray(issuances.idempotencyKey, repeated.map((r) => r.idempotencyKey))))
      : [];
    const earlierByKey = new Map(earlier.map((r) => [r.idempotencyKey, r]));
    for (const row of rows) {
      const result = results[row.index]!;
      const mine = byKey.get(row.idempotencyKey);
      if (mine) {
        Object.assign(result, { issuance: mine, created: true });
        continue;
      }
      const previous = earlierByKey.get(row.idempotencyKey);
      if (previous && previous.requestHash === row.requestHash) result.issuance = previous;
      else result.error = idempotencyConflict();
    }
  });
  return results;
}

function hashRequest(collectionId: string, recipient: string, document: unknown): string {
  return requestHash({ collectionId, recipient, document });
}

/**
 * Records one issuance and its outbox entry in one transaction. The same idempotency key with the same request
 * returns the issuance already recorded; with a different request it is refused.
 */
export async function requestIssuance(
  deps: IssueDeps,
  institutionId: string,
  input: IssueCertificateInput,
): Promise<{ issuance: Issuance; created: boolean }> {
  const { collectionId, ...item } = input;
  const [result] = await requestIssuanceBatch(deps, institutionId, collectionId, [item]);
  if (result!.error) throw result!.error;
  return { issuance: result!.issuance!, created: result!.created };
}

/** Each name must be one of the certificate's attributes: a typo would otherwise publish the value it meant to withhold. */
function parsePersonalAttributes(names: string[] | null | undefined, document: { attributes?: { name: string; value: unknown }[] }): string[] {
  if (!names?.length) return [];
  const known = new Set((document.attributes ?? []).map((a) => a.name));
  if (names.length > known.size) throw new OperationError("BAD_USER_INPUT", "personalAttributes names more attributes than the certificate has", "personalAttributes");
  names.forEach((name, i) => {
    if (typeof name !== "string" || !known.has(name)) throw new OperationError("BAD_USER_INPUT", `personalAttributes[${i}] is not the name of one of the certificate's attributes`, `personalAttributes[${i}]`);
    // A personal value is committed to as one string: a language map would be published in clear instead.
    if (document.attributes!.some((a) => a.name === name && typeof a.value !== "string")) {
      throw new OperationError("BAD_USER_INPUT", `personalAttributes[${i}] names an attribute written in several languages: a personal value must be one string`, `personalAttributes[${i}]`);
    }
  });
  return names;
}
