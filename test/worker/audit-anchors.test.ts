import { eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAuditEvent } from "../../core/audit/log.ts";
import { exportAuditLog, type ExportedAuditEvent } from "../../core/audit/export.ts";
import { chainAnchorReader, verifyAuditLog } from "../../core/audit/verify-log.ts";
import { deployIssuerRegistry } from "../../core/chain/deploy.ts";
import { TxSender } from "../../core/chain/tx-sender.ts";
import { auditAnchors, auditEvents, chainTxs } from "../../core/db/schema.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import type { WorkerDeps } from "../../worker/deps.ts";
import { AuditAnchorStage } from "../../worker/audit-anchors.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

/**
 * The audit-anchor stage on its own: a root over an institution's new events, recorded with each event's place,
 * sent once with the admin key, confirmed from the stored transaction; the export then verifies against the chain.
 */
describe("audit anchors: each institution's new events under one root on chain", () => {
  let fx: StageFixture;
  let deps: WorkerDeps;
  let registry: string;

  beforeAll(async () => {
    fx = await startStageFixture();
    const deployer = fx.chain.wallet(DEV_KEYS.deployer);
    ({ address: registry } = await deployIssuerRegistry(deployer, { admin: deployer.address, operator: deployer.address }));
    const adminSender = new TxSender({ db: fx.db, provider: fx.chain.provider, wallet: deployer, chainId: fx.config.chain.chainId, logger: fx.deps.logger });
    await adminSender.init();
    deps = { ...fx.deps, adminSender, issuerRegistry: registry, config: { ...fx.deps.config, auditAnchorIntervalMs: 1_000 } };
  });
  afterAll(async () => {
    await fx?.close();
  });

  const append = (n: number, from: number) =>
    fx.db.transaction(async (tx) => {
      for (let i = 0; i < n; i++) {
        await appendAuditEvent(tx, { institutionId: fx.institutionId, kind: "member.added", actor: { operator: true }, subject: { kind: "member", id: `m${from + i}` }, data: { i: from + i } });
      }
    });

  /** One stage tick, then the monitor until the admin key has nothing in flight, then the tick that confirms. */
  async function anchorRound(stage: AuditAnchorStage): Promise<void> {
    await stage.tick();
    const monitor = new TxMonitor(deps, [deps.adminSender!]);
    for (let round = 0; (await deps.adminSender!.inFlightCount()) > 0; round++) {
      if (round === 20) throw new Error("anchor still in flight after 20 monitor ticks");
      await monitor.tick();
    }
    await stage.tick();
  }

  async function exported(): Promise<string> {
    const lines: string[] = [];
    for await (const e of exportAuditLog(fx.db, fx.institutionId)) lines.push(JSON.stringify(e));
    return `${lines.join("\n")}\n`;
  }

  it("cuts one root over the new events, sends it once and confirms it; later events get the next root", async () => {
    await append(5, 1);
    const stage = new AuditAnchorStage(deps);
    await anchorRound(stage);
    // A second tick in the same period cuts nothing more and sends nothing again.
    await stage.tick();
    let anchors = await fx.db.select().from(auditAnchors).where(eq(auditAnchors.institutionId, fx.institutionId));
    expect(anchors.map((a) => [a.firstSeq, a.lastSeq, a.status])).toEqual([[1, 5, "CONFIRMED"]]);
    expect(await fx.db.select().from(chainTxs).where(like(chainTxs.purpose, "audit-anchor:%"))).toHaveLength(1);
    expect((await fx.db.select().from(auditEvents).where(eq(auditEvents.institutionId, fx.institutionId))).map((e) => e.leafIndex)).toEqual([0, 1, 2, 3, 4]);

    await append(3, 6);
    await new Promise((r) => setTimeout(r, 1_050));
    await anchorRound(stage);
    anchors = await fx.db.select().from(auditAnchors).where(eq(auditAnchors.institutionId, fx.institutionId));
    expect(anchors.map((a) => [a.firstSeq, a.lastSeq, a.status]).sort()).toEqual([[1, 5, "CONFIRMED"], [6, 8, "CONFIRMED"]]);

    const verdict = await verifyAuditLog(await exported(), { registry, readAnchors: chainAnchorReader(fx.chain.provider) });
    expect(verdict).toMatchObject({ ok: true, events: 8, anchored: 8, anchors: 2, unanchored: 0 });
  });

  it("refuses an export whose anchor the registry never emitted, and reports events after the last anchor as not anchored yet", async () => {
    const text = await exported();
    const events = text.trim().split("\n").map((l) => JSON.parse(l) as ExportedAuditEvent);
    // Another registry (one the auditor does not trust) holds none of these roots.
    const deployer = fx.chain.wallet(DEV_KEYS.deployer);
    const { address: elsewhere } = await deployIssuerRegistry(deployer, { admin: deployer.address, operator: deployer.address });
    const wrong = await verifyAuditLog(text, { registry: elsewhere, readAnchors: chainAnchorReader(fx.chain.provider) });
    expect(wrong.ok).toBe(false);
    expect(wrong.problem).toMatchObject({ line: 1, seq: 1 });
    expect(wrong.problem!.message).toMatch(/no anchor of events 1:5 was found on chain/);

    await append(2, 9);
    const tail = await verifyAuditLog(await exported(), { registry, readAnchors: chainAnchorReader(fx.chain.provider) });
    expect(tail).toMatchObject({ ok: true, events: events.length + 2, unanchored: 2 });

    // The anchored range must be whole: dropping the tail of a range is caught even if the chain links were redone.
    const cut = events.filter((e) => e.seq !== 5);
    const cutVerdict = await verifyAuditLog(cut.map((e) => JSON.stringify(e)).join("\n"), { registry, readAnchors: chainAnchorReader(fx.chain.provider) });
    expect(cutVerdict.ok).toBe(false);
    expect(cutVerdict.problem).toMatchObject({ line: 5, seq: 6 });
  });
});
