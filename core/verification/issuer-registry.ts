/**
 * Vouches that the institution behind a certificate registry was registered and active when it issued. The
 * on-chain issuer registry is being written separately; it plugs in here, and until then the issuer check is
 * reported as skipped.
 */
export interface IssuerRegistry {
  wasActive(query: { chainId: number; contract: string; at: Date }): Promise<{ active: boolean; reason: string }>;
}
