import { RegistryMissingError } from "./chain-reader.ts";
import { ChainUnavailableError } from "./errors.ts";
import type { CertificateSummary, ChainFacts, Check, CheckName, VerificationResult, Verdict } from "./types.ts";

export type ChainRead<T> = { value: T } | { unavailable: string } | { missing: string };

export async function readChain<T>(run: () => Promise<T>): Promise<ChainRead<T>> {
  try {
    return { value: await run() };
  } catch (err) {
    if (err instanceof ChainUnavailableError) return { unavailable: `the chain could not be reached (${err.message}), so nothing on it could be checked` };
    if (err instanceof RegistryMissingError) return { missing: err.message };
    throw err;
  }
}

/**
 * INVALID when any check failed; VALID only when every check passed (integrity, status, issuer, and the signature of
 * a credential); UNKNOWN otherwise. A verifier configured with no issuer registry therefore never says VALID: who
 * issued a certificate is part of whether it is genuine.
 */
function verdictOf(checks: Check[]): Verdict {
  if (checks.some((c) => c.result === "invalid")) return "INVALID";
  return checks.every((c) => c.result === "valid") ? "VALID" : "UNKNOWN";
}

export function finish(checks: Check[], certificate: CertificateSummary, chain: ChainFacts | undefined): VerificationResult {
  return { verdict: verdictOf(checks), checks, certificate, chain, checkedAt: new Date().toISOString() };
}

export function skip(name: CheckName, reason: string): Check {
  return { name, result: "skipped", reason };
}

export function fail(name: CheckName, reason: string): Check {
  return { name, result: "invalid", reason };
}
