import { confirmInstitutionDomain, dnsTxtLookup, proofsDueForRecheck, type TxtLookup } from "../core/identity/domain-proof.ts";
import { PollLoop } from "../core/poll-loop.ts";
import type { WorkerDeps } from "./deps.ts";
import { issuerRegistryOf } from "./processors/operator-request.ts";

/**
 * Checks every once-proven institution domain in DNS again when its latest check is DOMAIN_PROOF_RECHECK_HOURS old,
 * recording the result whatever it is: a proof stays current while the TXT record is published, and a withdrawn
 * record (a domain sold, an institution gone) ends it at the next check instead of never. Verification counts a
 * recorded proof for DOMAIN_PROOF_MAX_AGE_DAYS only, so a stopped worker cannot keep one alive either.
 */
export class DomainProofRecheck {
  private readonly deps: WorkerDeps;
  private readonly loop: PollLoop;
  private readonly lookup: TxtLookup;

  constructor(deps: WorkerDeps, lookup?: TxtLookup) {
    this.deps = deps;
    this.lookup = lookup ?? dnsTxtLookup({ servers: deps.config.dnsServers });
    const intervalMs = deps.config.domainProofs.recheckHours * 3_600_000;
    // A quarter of the interval, at most five minutes: a due proof waits little, an idle platform asks seldom.
    this.loop = new PollLoop(
      "domain proof re-check",
      async () => {
        await this.tick();
        return false;
      },
      { idleMs: Math.max(250, Math.min(intervalMs / 4, 300_000)), logger: deps.logger },
    );
  }

  start(): void {
    if (this.deps.config.domainProofs.recheckHours > 0) this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  async tick(): Promise<void> {
    const { db, config, logger } = this.deps;
    const issuerRegistry = issuerRegistryOf(this.deps);
    if (!issuerRegistry) return;
    const due = await proofsDueForRecheck(db, new Date(Date.now() - config.domainProofs.recheckHours * 3_600_000));
    for (const institutionId of due) {
      try {
        const proof = await confirmInstitutionDomain(db, this.lookup, { institutionId, chainId: config.chain.chainId, issuerRegistry });
        if (!proof.proven) logger.warn({ institutionId, domain: proof.domain, reason: proof.reason }, "an institution's domain proof no longer holds");
      } catch (err) {
        // An institution whose identity no longer names a domain, or not yet on chain: the operator's business.
        logger.warn({ institutionId, err: (err as Error).message }, "domain proof not re-checked");
      }
    }
  }
}
