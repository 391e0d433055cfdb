import { getAddress, id, type Provider } from "ethers";
import { buildMerkleTree, rootFromProof } from "../anchoring/merkle.ts";
import { auditEventHash, auditLeaf, auditLogId, GENESIS_HASH } from "./event-hash.ts";
import type { ExportedAuditEvent } from "./export.ts";

export const AUDIT_LOG_ANCHORED_TOPIC = id("AuditLogAnchored(bytes16,uint64,uint64,bytes32)");

/** The first thing found wrong, naming the line (1-based) and the event. */
export interface AuditLogProblem {
  line: number;
  seq?: number;
  message: string;
}

export interface AuditLogVerdict {
  ok: boolean;
  events: number;
  institutionId?: string;
  /** Events covered by a root found on chain. */
  anchored: number;
  /** Roots checked against the chain. */
  anchors: number;
  /** Events after the last anchor (not yet anchored: their chain links are checked, not their presence on chain). */
  unanchored: number;
  problem?: AuditLogProblem;
}

/** Reads the roots the registry anchored for one log: `firstSeq:lastSeq` → root (lower case). */
export type AnchorReader = (contract: string, log: string) => Promise<Map<string, string>>;

/** The registry's `AuditLogAnchored` events of one log, through any JSON-RPC provider. */
export function chainAnchorReader(provider: Provider): AnchorReader {
  return async (contract, log) => {
    // An indexed bytes16 is its 16 bytes, left-aligned in the 32-byte topic.
    const topic = `${log}${"0".repeat(32)}`;
    const logs = await provider.getLogs({ address: contract, topics: [AUDIT_LOG_ANCHORED_TOPIC, topic], fromBlock: 0, toBlock: "latest" });
    const roots = new Map<string, string>();
    for (const entry of logs) roots.set(`${BigInt(entry.topics[2]!)}:${BigInt(entry.topics[3]!)}`, `0x${entry.data.slice(2, 66)}`.toLowerCase());
    return roots;
  };
}

/**
 * Checks an exported audit log (JSON Lines, as `exportAuditLog` writes it): every line parses and recomputes to its
 * hash; the lines are one institution's chain from its first event, each naming the one before (so nothing was
 * removed, inserted or reordered); each anchored range is present whole, its Merkle root recomputes, each event's
 * proof leads to it, and the registry (`registry`, the contract trusted by the auditor) emitted that root for that
 * range. Stops at the first problem.
 */
export async function verifyAuditLog(text: string, opts: { registry: string; readAnchors: AnchorReader }): Promise<AuditLogVerdict> {
  const verdict: AuditLogVerdict = { ok: false, events: 0, anchored: 0, anchors: 0, unanchored: 0 };
  const fail = (problem: AuditLogProblem) => ({ ...verdict, ok: false, problem });
  const lines = text.split("\n").map((l, i) => ({ text: l.trim(), line: i + 1 })).filter((l) => l.text);
  if (!lines.length) return fail({ line: 0, message: "the file holds no event" });
  const events: { line: number; event: ExportedAuditEvent }[] = [];
  let prev = GENESIS_HASH;
  for (const { text: raw, line } of lines) {
    let event: ExportedAuditEvent;
    try {
      event = JSON.parse(raw) as ExportedAuditEvent;
    } catch {
      return fail({ line, message: "not a JSON object" });
    }
    if (!event || typeof event !== "object" || typeof event.seq !== "number" || typeof event.hash !== "string" || typeof event.institutionId !== "string") {
      return fail({ line, message: "not an exported audit event" });
    }
    const seq = event.seq;
    verdict.institutionId ??= event.institutionId;
    if (event.institutionId !== verdict.institutionId) return fail({ line, seq, message: `event of another institution (${event.institutionId})` });
    const expectedSeq = events.length + 1;
    if (seq !== expectedSeq) return fail({ line, seq, message: `sequence ${seq} where ${expectedSeq} was expected: an event was removed, inserted or reordered` });
    if (auditEventHash(event) !== event.hash) return fail({ line, seq, message: "the event's content does not match its hash: it was altered" });
    if (event.prevHash !== prev) return fail({ line, seq, message: "it does not name the previous event's hash: the chain is broken here" });
    prev = event.hash;
    events.push({ line, event });
    verdict.events++;
  }

  // Anchors: each range whole, its root recomputed and each proof checked, then the root found on chain.
  const ranges = new Map<string, { first: number; last: number; root: string; members: { line: number; event: ExportedAuditEvent }[] }>();
  for (const entry of events) {
    const a = entry.event.anchor;
    if (!a) continue;
    const key = `${a.firstSeq}:${a.lastSeq}`;
    const range = ranges.get(key) ?? { first: a.firstSeq, last: a.lastSeq, root: a.root.toLowerCase(), members: [] };
    if (range.root !== a.root.toLowerCase()) return fail({ line: entry.line, seq: entry.event.seq, message: `two roots named for events ${key}` });
    if (entry.event.seq < a.firstSeq || entry.event.seq > a.lastSeq || a.leafIndex !== entry.event.seq - a.firstSeq) {
      return fail({ line: entry.line, seq: entry.event.seq, message: "its anchor does not cover its place in the log" });
    }
    if (rootFromProof(auditLeaf(entry.event.hash), a.proof).toLowerCase() !== range.root) {
      return fail({ line: entry.line, seq: entry.event.seq, message: "its Merkle proof does not lead to the anchored root" });
    }
    range.members.push(entry);
    ranges.set(key, range);
  }
  let lastAnchored = 0;
  const log = auditLogId(verdict.institutionId!);
  let onChain: Map<string, string> | undefined;
  for (const [key, range] of ranges) {
    const first = range.members[0]!;
    if (range.members.length !== range.last - range.first + 1) {
      return fail({ line: first.line, seq: first.event.seq, message: `the anchored range ${key} is not whole in the file` });
    }
    const root = buildMerkleTree(range.members.map((m) => auditLeaf(m.event.hash))).root.toLowerCase();
    if (root !== range.root) return fail({ line: first.line, seq: first.event.seq, message: `the events ${key} do not recompute to their anchored root` });
    onChain ??= await opts.readAnchors(getAddress(opts.registry), log);
    const chainRoot = onChain.get(key);
    if (chainRoot !== range.root) {
      return fail({ line: first.line, seq: first.event.seq, message: chainRoot ? `the registry anchored another root for events ${key}` : `no anchor of events ${key} was found on chain at ${opts.registry}` });
    }
    verdict.anchors++;
    verdict.anchored += range.members.length;
    lastAnchored = Math.max(lastAnchored, range.last);
  }
  verdict.unanchored = verdict.events - verdict.anchored;
  // Everything up to the last anchored event must be anchored: a gap would be events the chain never saw.
  const gap = events.find((e) => e.event.seq <= lastAnchored && !e.event.anchor);
  if (gap) return fail({ line: gap.line, seq: gap.event.seq, message: "it precedes an anchored event but carries no anchor" });
  return { ...verdict, ok: true };
}
