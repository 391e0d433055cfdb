import { Resolver } from "node:dns/promises";
import { and, desc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { domainProofs, institutions } from "../db/schema.ts";
import { isId } from "../db/ids.ts";
import { OperationError } from "../operations/errors.ts";
import { domainOfIdentity } from "./did-web.ts";

/**
 * Domain binding, after OpenAttestation's DNS-TXT method: an institution proves it controls the domain its issuer
 * registry identity names by publishing, at `_hallmark.<domain>`, a TXT record naming the chain, the issuer
 * registry and its entry there:
 *
 *     _hallmark.example.edu. 300 IN TXT "hallmark-issuer chainId=31337 registry=0x5FbDB2315678afecb367f032d93F642f64180aa3 institution=7"
 *
 * Fields are separated by spaces, in any order; `chainId` and `institution` are decimal, `registry` is the
 * IssuerRegistry's address (any letter case). Only whoever controls the domain's DNS can publish it, and it names
 * one entry of one registry on one chain, so another entry claiming the same domain is not proven by it.
 */
export const DNS_PROOF_PREFIX = "_hallmark";
export const DNS_PROOF_TAG = "hallmark-issuer";

export type DomainProof = typeof domainProofs.$inferSelect;

/** What a domain must prove to be bound: the entry of the issuer registry on the chain. */
export interface ProofTarget {
  chainId: number;
  issuerRegistry: string;
  chainInstitutionId: string;
}

/** The TXT record an institution publishes at `_hallmark.<domain>`. */
export function dnsProofRecord(target: ProofTarget): string {
  return `${DNS_PROOF_TAG} chainId=${target.chainId} registry=${target.issuerRegistry} institution=${target.chainInstitutionId}`;
}

/** The fields of a record in the format above; undefined for a TXT record that is not one. */
export function parseDnsProofRecord(text: string): { chainId?: string; registry?: string; institution?: string } | undefined {
  const [tag, ...fields] = text.trim().split(/\s+/);
  if (tag !== DNS_PROOF_TAG) return undefined;
  const parsed: Record<string, string> = {};
  for (const field of fields) {
    const at = field.indexOf("=");
    if (at > 0) parsed[field.slice(0, at)] = field.slice(at + 1);
  }
  return parsed;
}

function matches(text: string, target: ProofTarget): boolean {
  const r = parseDnsProofRecord(text);
  return !!r && r.chainId === String(target.chainId) && r.registry?.toLowerCase() === target.issuerRegistry.toLowerCase() && r.institution === target.chainInstitutionId;
}

/** The TXT records at a name, each record's strings joined; [] when the name has none. */
export type TxtLookup = (name: string) => Promise<string[]>;

/**
 * TXT look-ups through `node:dns`, asking `servers` (DNS_SERVERS: `host` or `host:port`, IPv6 in brackets) or, when
 * none are given, this machine's resolvers.
 */
export function dnsTxtLookup(opts: { servers?: readonly string[]; timeoutMs?: number } = {}): TxtLookup {
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 3_000, tries: 2 });
  if (opts.servers?.length) resolver.setServers([...opts.servers]);
  return async (name) => {
    try {
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(""));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOTFOUND" || code === "ENODATA") return [];
      throw err;
    }
  };
}

/** Checks the DNS proof of `domain` for `target` now. */
export async function checkDnsProof(lookup: TxtLookup, domain: string, target: ProofTarget): Promise<{ proven: boolean; record?: string; reason: string }> {
  const name = `${DNS_PROOF_PREFIX}.${domain}`;
  let records: string[];
  try {
    records = await lookup(name);
  } catch (err) {
    return { proven: false, reason: `DNS could not be asked for ${name}: ${(err as Error).message}` };
  }
  const record = records.find((r) => matches(r, target));
  if (record) return { proven: true, record, reason: `${name} has the TXT record "${record}"` };
  const ours = records.filter((r) => parseDnsProofRecord(r));
  const expected = dnsProofRecord(target);
  if (ours.length === 0) return { proven: false, reason: `${name} has no ${DNS_PROOF_TAG} TXT record; expected "${expected}"` };
  return { proven: false, reason: `${name}'s ${DNS_PROOF_TAG} record${ours.length > 1 ? "s name" : " names"} another chain, registry or entry ("${ours.join('", "')}"); expected "${expected}"` };
}

/**
 * The operator's confirmation of an institution's domain: checks the DNS proof of the domain its identity names
 * for its entry in the issuer registry, and records the check, proven or not (the latest check is its proof). Run
 * again to re-check.
 */
export async function confirmInstitutionDomain(
  db: Database,
  lookup: TxtLookup,
  input: { institutionId: string; chainId: number; issuerRegistry: string | undefined },
): Promise<DomainProof> {
  if (!isId(input.institutionId)) throw new OperationError("NOT_FOUND", "institution not found", "institutionId");
  const [institution] = await db.select().from(institutions).where(eq(institutions.id, input.institutionId));
  if (!institution) throw new OperationError("NOT_FOUND", "institution not found", "institutionId");
  if (!institution.chainInstitutionId) throw new OperationError("INSTITUTION_PENDING", "the institution is not registered on chain yet: its entry is what the DNS record names", "institutionId");
  const domain = domainOfIdentity(institution.identity);
  if (!domain) throw new OperationError("BAD_USER_INPUT", `the institution's identity (${institution.identity ?? "none"}) names no DNS domain to prove`, "institutionId");
  if (!input.issuerRegistry) throw new OperationError("CONFLICT", "no issuer registry is configured (ISSUER_REGISTRY_ADDRESS): the DNS record names it", "institutionId");
  const target = { chainId: input.chainId, issuerRegistry: input.issuerRegistry, chainInstitutionId: institution.chainInstitutionId };
  const result = await checkDnsProof(lookup, domain, target);
  const [row] = await db
    .insert(domainProofs)
    .values({ institutionId: institution.id, domain, method: "DNS_TXT", ...target, proven: result.proven, record: result.record ?? null, reason: result.reason })
    .returning();
  return row!;
}

export async function latestDomainProof(db: Database, institutionId: string): Promise<DomainProof | undefined> {
  const [row] = await db.select().from(domainProofs).where(eq(domainProofs.institutionId, institutionId)).orderBy(desc(domainProofs.checkedAt), desc(domainProofs.id)).limit(1);
  return row;
}

/** What a verifier knows of an issuer registry entry's identity proof. */
export type IdentityProofAnswer = { proven: true; domain: string; method: "DNS_TXT"; checkedAt: Date; record: string } | { proven: false; reason: string };

export interface IdentityProofs {
  proofOf(entry: ProofTarget & { identity: string }): Promise<IdentityProofAnswer>;
}

/** How long a recorded DNS proof counts by default: domains change hands, so a proof is re-checked (worker) and ages out. */
export const DEFAULT_PROOF_MAX_AGE_DAYS = 30;

/**
 * The proofs the operator recorded: the latest check of the domain the entry's identity names, for that very
 * entry of that registry on that chain. A proof older than `maxAgeDays` no longer counts: a domain that changed
 * hands since must not keep its former owner's name.
 */
export function recordedIdentityProofs(db: Database, opts: { maxAgeDays?: number; now?: () => Date } = {}): IdentityProofs {
  const maxAgeDays = opts.maxAgeDays ?? DEFAULT_PROOF_MAX_AGE_DAYS;
  const now = opts.now ?? (() => new Date());
  return {
    async proofOf(entry) {
      const domain = domainOfIdentity(entry.identity);
      if (!domain) return { proven: false, reason: `${entry.identity} names no domain that could be proven` };
      const [row] = await db
        .select()
        .from(domainProofs)
        .where(
          and(
            eq(domainProofs.chainId, entry.chainId),
            sql`lower(${domainProofs.issuerRegistry}) = ${entry.issuerRegistry.toLowerCase()}`,
            eq(domainProofs.chainInstitutionId, entry.chainInstitutionId),
            eq(domainProofs.domain, domain),
          ),
        )
        .orderBy(desc(domainProofs.checkedAt), desc(domainProofs.id))
        .limit(1);
      if (!row) return { proven: false, reason: `no DNS proof of ${domain} has been recorded` };
      if (!row.proven) return { proven: false, reason: `the last DNS check of ${domain}, on ${day(row.checkedAt)}, failed: ${row.reason}` };
      if (now().getTime() - row.checkedAt.getTime() > maxAgeDays * 86_400_000) {
        return { proven: false, reason: `the last DNS proof of ${domain}, on ${day(row.checkedAt)}, is older than ${maxAgeDays} days and has not been checked again since` };
      }
      return { proven: true, domain, method: "DNS_TXT", checkedAt: row.checkedAt, record: row.record! };
    },
  };
}

export function day(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * Proofs checked in DNS as the verifier asks, trusting no one's record of them: what a verifier without Hallmark's
 * database (the command line) does.
 */
export function liveIdentityProofs(lookup: TxtLookup, now: () => Date = () => new Date()): IdentityProofs {
  return {
    async proofOf(entry) {
      const domain = domainOfIdentity(entry.identity);
      if (!domain) return { proven: false, reason: `${entry.identity} names no domain that could be proven` };
      const result = await checkDnsProof(lookup, domain, entry);
      if (!result.proven) return { proven: false, reason: result.reason };
      return { proven: true, domain, method: "DNS_TXT", checkedAt: now(), record: result.record! };
    },
  };
}

/**
 * The institutions whose domain was once proven and whose latest check is older than `olderThan`: what the worker
 * checks again, so that a proof stays current while the record is published and ends when it is withdrawn.
 * An institution whose domain was never proven waits for the operator's confirmation instead.
 */
export async function proofsDueForRecheck(db: Database, olderThan: Date, limit = 50): Promise<string[]> {
  const rows = (await db.execute(sql`
    select p.institution_id from ${domainProofs} p
    where p.checked_at = (select max(q.checked_at) from ${domainProofs} q where q.institution_id = p.institution_id)
      and p.checked_at < ${olderThan.toISOString()}
      and exists (select 1 from ${domainProofs} r where r.institution_id = p.institution_id and r.proven)
    order by p.checked_at
    limit ${limit}`)) as unknown as { rows: { institution_id: string }[] };
  return [...new Set(rows.rows.map((r) => r.institution_id))];
}
