import { and, asc, eq, gt, inArray } from "drizzle-orm";
import { buildMerkleTree } from "../anchoring/merkle.ts";
import type { Database } from "../db/index.ts";
import { auditAnchors, auditEvents } from "../db/schema.ts";
import { auditLeaf, type AuditEventBody } from "./event-hash.ts";
import { auditBodyOf } from "./log.ts";

/** Where an event was anchored, and the proof that leads from its hash to the anchored root. */
export interface ExportedAnchor {
  root: string;
  firstSeq: number;
  lastSeq: number;
  leafIndex: number;
  proof: string[];
  /** The issuer registry that emitted `AuditLogAnchored`, the transaction and its block. */
  contract: string;
  txHash: string;
  blockNumber: number;
}

/** One line of the JSON Lines export: the event as hashed, its hash, and its anchor once confirmed on chain. */
export interface ExportedAuditEvent extends AuditEventBody {
  hash: string;
  anchor: ExportedAnchor | null;
}

const PAGE = 1_000;

/**
 * The institution's whole audit log, in chain order, a page of events at a time: what an auditor verifies with
 * `npm run audit -- --verify-log`. Events whose anchor is not confirmed yet go without one (the next period's root
 * covers them); proofs are rebuilt from the anchored range, which the export always holds whole.
 */
export async function* exportAuditLog(db: Database, institutionId: string): AsyncGenerator<ExportedAuditEvent> {
  const trees = new Map<string, { anchor: typeof auditAnchors.$inferSelect; proof: (i: number) => string[] } | null>();
  let after = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.institutionId, institutionId), gt(auditEvents.seq, after)))
      .orderBy(asc(auditEvents.seq))
      .limit(PAGE);
    if (!rows.length) return;
    const missing = [...new Set(rows.map((r) => r.anchorId).filter((id): id is string => !!id && !trees.has(id)))];
    if (missing.length) {
      for (const anchor of await db.select().from(auditAnchors).where(inArray(auditAnchors.id, missing))) {
        if (anchor.status !== "CONFIRMED") {
          trees.set(anchor.id, null);
          continue;
        }
        const covered = await db.select({ hash: auditEvents.hash }).from(auditEvents).where(eq(auditEvents.anchorId, anchor.id)).orderBy(asc(auditEvents.seq));
        const tree = buildMerkleTree(covered.map((e) => auditLeaf(e.hash)));
        trees.set(anchor.id, { anchor, proof: (i) => tree.proof(i) });
      }
    }
    for (const row of rows) {
      const tree = row.anchorId ? trees.get(row.anchorId) : null;
      const anchor: ExportedAnchor | null =
        tree && row.leafIndex != null
          ? {
              root: tree.anchor.root,
              firstSeq: tree.anchor.firstSeq,
              lastSeq: tree.anchor.lastSeq,
              leafIndex: row.leafIndex,
              proof: tree.proof(row.leafIndex),
              contract: tree.anchor.contractAddress!,
              txHash: tree.anchor.txHash!,
              blockNumber: tree.anchor.blockNumber!,
            }
          : null;
      yield { ...auditBodyOf(row), hash: row.hash, anchor };
    }
    after = rows.at(-1)!.seq;
  }
}
