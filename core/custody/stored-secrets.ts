import { and, asc, eq, gt, notLike } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Database } from "../db/index.ts";
import type { Custody } from "./custody-secret.ts";
import { editionContractCreations, editionContracts, institutionKeys, issuerKeys, webhookEndpoints } from "../db/schema.ts";
import { isSealed, openSecret, sealSecret, SealedSecretError, type SealingKeyring } from "./sealed.ts";

/** Every column that holds a secret the platform must be able to use again, so must keep sealed. */
export const SEALED_COLUMNS: readonly { name: string; table: PgTable; id: PgColumn; value: PgColumn; field: string }[] = [
  { name: "institution signing keys", table: institutionKeys, id: institutionKeys.institutionId, value: institutionKeys.secretKeyMultibase, field: "secretKeyMultibase" },
  { name: "issuer keys (did:web)", table: issuerKeys, id: issuerKeys.id, value: issuerKeys.secretKeyMultibase, field: "secretKeyMultibase" },
  { name: "webhook secrets", table: webhookEndpoints, id: webhookEndpoints.id, value: webhookEndpoints.secret, field: "secret" },
  { name: "voucher signer keys", table: editionContracts, id: editionContracts.id, value: editionContracts.voucherSignerKey, field: "voucherSignerKey" },
  { name: "voucher signer keys of contracts being created", table: editionContractCreations, id: editionContractCreations.id, value: editionContractCreations.voucherSignerKey, field: "voucherSignerKey" },
];

const PAGE = 200;

export interface SealingReport {
  /** Values sealed or resealed by this call (a value another process changed first is not counted). */
  sealed: number;
  /** Values that could not be opened (sealed under a key the keyring lacks, or changed): left as they were. */
  unopenable: { column: string; id: string; problem: string }[];
}

/**
 * Seals every stored secret that is not sealed yet (`reseal`: also every one sealed under another key than the
 * keyring's current one). Idempotent, and safe with several processes at once: each row is written only if it
 * still holds the value read, so a row another process sealed first is left alone.
 */
export async function sealStoredSecrets(
  db: Database,
  opts: { keyring: SealingKeyring; reseal?: boolean; onProgress?: (column: string, done: number, total: number) => void },
): Promise<SealingReport> {
  const report: SealingReport = { sealed: 0, unopenable: [] };
  for (const col of SEALED_COLUMNS) {
    const stale = notLike(col.value, opts.reseal ? `sealed:${opts.keyring.current}:%` : "sealed:%");
    const total = opts.onProgress ? await db.$count(col.table, stale) : 0;
    let done = 0;
    let after: string | undefined;
    for (;;) {
      const rows = (await db
        .select({ id: col.id, value: col.value })
        .from(col.table)
        .where(after === undefined ? stale : and(stale, gt(col.id, after)))
        .orderBy(asc(col.id))
        .limit(PAGE)) as { id: string; value: string }[];
      if (!rows.length) break;
      for (const row of rows) {
        let plain: string;
        try {
          // The one place a value stored before sealing existed is accepted as it is.
          plain = isSealed(row.value) ? openSecret(row.value, opts.keyring) : row.value;
        } catch (err) {
          if (!(err instanceof SealedSecretError)) throw err;
          report.unopenable.push({ column: col.name, id: row.id, problem: err.problem });
          continue;
        }
        const written = await db
          .update(col.table)
          .set({ [col.field]: sealSecret(plain, opts.keyring) })
          .where(and(eq(col.id, row.id), eq(col.value, row.value)))
          .returning({ id: col.id });
        report.sealed += written.length;
      }
      done += rows.length;
      after = rows.at(-1)!.id;
      opts.onProgress?.(col.name, done, total);
    }
  }
  return report;
}

/**
 * What every process that opens the database does before using a stored secret: values stored before sealing
 * existed sealed under this process's custody keys. Secrets under a key SEALING_KEYS no longer lists are reported,
 * not fatal: only what needs them fails, with a clear error.
 */
export async function prepareSealedSecrets(db: Database, custody: Custody): Promise<SealingReport> {
  return sealStoredSecrets(db, { keyring: custody.keyring() });
}
