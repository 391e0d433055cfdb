/**
 * The name of the chain indexer's cursor over one chain's certificate registries (worker/indexer.ts). It moves in the
 * same database transaction that records what its blocks did to certificates, so readers can tell from it alone
 * whether any certificate's status may have changed.
 */
export function registryCursorName(chainId: number): string {
  return `registries:${chainId}`;
}
