import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../../core/db/index.ts";
import { institutions } from "../../../core/db/schema.ts";
import {
  checkDnsProof,
  confirmInstitutionDomain,
  dnsProofRecord,
  dnsTxtLookup,
  latestDomainProof,
  liveIdentityProofs,
  recordedIdentityProofs,
} from "../../../core/identity/domain-proof.ts";
import { OperationError } from "../../../core/operations/errors.ts";
import { loadConfig } from "../../../core/config.ts";
import { domainProofs } from "../../../core/db/schema.ts";
import { createLogger } from "../../../core/logger.ts";
import { DomainProofRecheck } from "../../../worker/domain-proof-recheck.ts";
import type { WorkerDeps } from "../../../worker/deps.ts";
import { eq } from "drizzle-orm";
import { startTestDnsServer } from "../../support/dns-server.ts";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const target = { chainId: 31337, issuerRegistry: REGISTRY, chainInstitutionId: "7" };

describe("domain binding by a DNS TXT record at _hallmark.<domain>, resolved by a DNS server on 127.0.0.1", () => {
  let dns: Awaited<ReturnType<typeof startTestDnsServer>>;
  let lookup: ReturnType<typeof dnsTxtLookup>;
  let dir: string;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    dns = await startTestDnsServer();
    lookup = dnsTxtLookup({ servers: dns.servers, timeoutMs: 2_000 });
    dir = await mkdtemp(join(tmpdir(), "hallmark-domain-proof-"));
    handle = await openDatabase({ dir: join(dir, "db") });
  });
  afterAll(async () => {
    await dns?.close();
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("is accepted with the right record, among other TXT records, the registry's address in any case", async () => {
    dns.records.set("_hallmark.example.edu", [["v=spf1 -all"], ["hallmark-issuer chainId=31337 ", `registry=${REGISTRY.toLowerCase()} institution=7`]]);
    const result = await checkDnsProof(lookup, "example.edu", target);
    expect(result).toMatchObject({ proven: true, record: `hallmark-issuer chainId=31337 registry=${REGISTRY.toLowerCase()} institution=7` });
    expect(dns.asked).toContain("_hallmark.example.edu");
  });

  it("is refused with a wrong chain id, a wrong registry, another entry, or no record, saying what was expected", async () => {
    const expected = dnsProofRecord(target);
    expect(expected).toBe(`hallmark-issuer chainId=31337 registry=${REGISTRY} institution=7`);
    const wrong = [
      `hallmark-issuer chainId=1 registry=${REGISTRY} institution=7`,
      "hallmark-issuer chainId=31337 registry=0x0000000000000000000000000000000000000001 institution=7",
      `hallmark-issuer chainId=31337 registry=${REGISTRY} institution=8`,
      `hallmark-issuer chainId=31337 registry=${REGISTRY}`,
    ];
    for (const record of wrong) {
      dns.records.set("_hallmark.wrong.example", [[record]]);
      const result = await checkDnsProof(lookup, "wrong.example", target);
      expect(result.proven, record).toBe(false);
      expect(result.reason).toContain("names another chain, registry or entry");
      expect(result.reason).toContain(expected);
    }
    const none = await checkDnsProof(lookup, "nothing.example", target);
    expect(none).toMatchObject({ proven: false });
    expect(none.reason).toBe(`_hallmark.nothing.example has no hallmark-issuer TXT record; expected "${expected}"`);
  });

  it("says so when DNS cannot be asked (a server that does not answer), rather than proving or hanging", async () => {
    const closed = await startTestDnsServer();
    await closed.close();
    const started = Date.now();
    const result = await checkDnsProof(dnsTxtLookup({ servers: closed.servers, timeoutMs: 200 }), "example.edu", target);
    expect(result.proven).toBe(false);
    expect(result.reason).toMatch(/^DNS could not be asked for _hallmark\.example\.edu/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("ages out after DOMAIN_PROOF_MAX_AGE_DAYS; the worker's re-check renews it while the record stands and ends it once withdrawn", async () => {
    const aged = { ...target, chainInstitutionId: "11" };
    const [inst] = await handle.db.insert(institutions).values({ name: "Aged U", slug: "aged-u", identity: "aged.example", chainInstitutionId: "11" }).returning();
    const [never] = await handle.db.insert(institutions).values({ name: "Never U", slug: "never-u", identity: "never.example", chainInstitutionId: "12" }).returning();
    dns.records.set("_hallmark.aged.example", [[dnsProofRecord(aged)]]);
    const first = await confirmInstitutionDomain(handle.db, lookup, { institutionId: inst!.id, chainId: 31337, issuerRegistry: REGISTRY });
    await confirmInstitutionDomain(handle.db, lookup, { institutionId: never!.id, chainId: 31337, issuerRegistry: REGISTRY });
    expect(first.proven).toBe(true);
    const in31Days = () => new Date(Date.now() + 31 * 86_400_000);
    expect(await recordedIdentityProofs(handle.db, { now: in31Days }).proofOf({ ...aged, identity: "aged.example" })).toEqual({
      proven: false,
      reason: `the last DNS proof of aged.example, on ${first.checkedAt.toISOString().slice(0, 10)}, is older than 30 days and has not been checked again since`,
    });
    expect(await recordedIdentityProofs(handle.db, { now: in31Days, maxAgeDays: 60 }).proofOf({ ...aged, identity: "aged.example" })).toMatchObject({ proven: true });

    const config = loadConfig({ DOMAIN_PROOF_RECHECK_HOURS: "24", DNS_SERVERS: dns.servers.join(",") });
    const recheck = new DomainProofRecheck({ db: handle.db, config, logger: createLogger("silent"), issuerRegistry: REGISTRY } as unknown as WorkerDeps, lookup);
    const backdate = (days: number) => handle.db.update(domainProofs).set({ checkedAt: new Date(Date.now() - days * 86_400_000) }).where(eq(domainProofs.institutionId, inst!.id));
    const checks = async () => (await handle.db.select().from(domainProofs).where(eq(domainProofs.institutionId, inst!.id))).length;

    // Checked today: not due. Two days old: checked again, proven again, and it counts from today.
    await recheck.tick();
    expect(await checks()).toBe(1);
    await backdate(2);
    await recheck.tick();
    expect(await checks()).toBe(2);
    expect(await latestDomainProof(handle.db, inst!.id)).toMatchObject({ proven: true });
    // The record withdrawn: the next re-check records the failure, and verification stops naming the domain.
    dns.records.delete("_hallmark.aged.example");
    await backdate(2);
    await recheck.tick();
    expect(await latestDomainProof(handle.db, inst!.id)).toMatchObject({ proven: false, reason: expect.stringContaining("has no hallmark-issuer TXT record") });
    expect(await recordedIdentityProofs(handle.db).proofOf({ ...aged, identity: "aged.example" })).toMatchObject({ proven: false, reason: expect.stringContaining("failed") });
    // An institution never proven is left to the operator's confirmation: nothing is checked for it.
    expect((await handle.db.select().from(domainProofs).where(eq(domainProofs.institutionId, never!.id))).length).toBe(1);
  });

  it("is recorded on the operator's confirmation, proven or not, and re-checked on demand", async () => {
    const [inst] = await handle.db.insert(institutions).values({ name: "Example University", slug: "example-u", identity: "example.edu", chainInstitutionId: "7" }).returning();
    const [pending] = await handle.db.insert(institutions).values({ name: "Pending U", slug: "pending-u", identity: "pending.example" }).returning();
    const [keyOnly] = await handle.db.insert(institutions).values({ name: "Key U", slug: "key-u", identity: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", chainInstitutionId: "9" }).returning();
    const confirm = (institutionId: string) => confirmInstitutionDomain(handle.db, lookup, { institutionId, chainId: 31337, issuerRegistry: REGISTRY });

    dns.records.set("_hallmark.example.edu", [[`hallmark-issuer chainId=31337 registry=${REGISTRY} institution=8`]]);
    const refused = await confirm(inst!.id);
    expect(refused).toMatchObject({ proven: false, record: null, domain: "example.edu", method: "DNS_TXT", chainInstitutionId: "7" });
    expect(await recordedIdentityProofs(handle.db).proofOf({ ...target, identity: "example.edu" })).toMatchObject({ proven: false, reason: expect.stringMatching(/^the last DNS check of example\.edu, on \d{4}-\d\d-\d\d, failed: /) });

    dns.records.set("_hallmark.example.edu", [[dnsProofRecord(target)]]);
    const proven = await confirm(inst!.id);
    expect(proven).toMatchObject({ proven: true, record: dnsProofRecord(target), issuerRegistry: REGISTRY });
    expect(proven.checkedAt.getTime()).toBeGreaterThanOrEqual(refused.checkedAt.getTime());
    expect((await latestDomainProof(handle.db, inst!.id))!.id).toBe(proven.id);
    const recorded = await recordedIdentityProofs(handle.db).proofOf({ ...target, identity: "example.edu" });
    expect(recorded).toMatchObject({ proven: true, domain: "example.edu", method: "DNS_TXT", checkedAt: proven.checkedAt });
    // The proof is of one entry of one registry on one chain: another entry claiming the domain is not proven by it.
    expect(await recordedIdentityProofs(handle.db).proofOf({ ...target, chainInstitutionId: "8", identity: "example.edu" })).toMatchObject({ proven: false });
    expect(await recordedIdentityProofs(handle.db).proofOf({ ...target, issuerRegistry: "0x0000000000000000000000000000000000000001", identity: "example.edu" })).toMatchObject({ proven: false });

    // A verifier with no database asks DNS itself.
    expect(await liveIdentityProofs(lookup).proofOf({ ...target, identity: "did:web:example.edu" })).toMatchObject({ proven: true, domain: "example.edu" });

    const code = (p: Promise<unknown>) => p.then(() => "none", (err: unknown) => (err instanceof OperationError ? `${err.code}` : String(err)));
    expect(await code(confirm(pending!.id))).toBe("INSTITUTION_PENDING");
    expect(await code(confirm(keyOnly!.id))).toBe("BAD_USER_INPUT");
    expect(await code(confirmInstitutionDomain(handle.db, lookup, { institutionId: inst!.id, chainId: 31337, issuerRegistry: undefined }))).toBe("CONFLICT");
    expect(await code(confirm("00000000-0000-4000-8000-000000000000"))).toBe("NOT_FOUND");
  });
});
