/**
 * Hallmark's own terms, carried inline in every credential (VC 2.0 allows context objects after the base URL), so a
 * verifier needs only the W3C and Open Badges contexts it already has, and nothing hosted by Hallmark.
 */
export const hallmarkContext = {
  "@protected": true,
  /**
   * Where the certificate lives on chain (chain id, registry, token id, issuing transaction): related information a
   * standard verifier ignores (status comes from the W3C Bitstring Status List entries) and Hallmark's verifier uses to
   * read the registry. Credentials exported before carried these facts as a `HallmarkRegistryStatus` status entry.
   */
  chainRecord: {
    "@id": "https://hallmark.dev/ns#chainRecord",
    "@context": {
      "@protected": true,
      id: "@id",
      type: "@type",
      chainId: { "@id": "https://hallmark.dev/ns#chainId", "@type": "http://www.w3.org/2001/XMLSchema#integer" },
      registry: { "@id": "https://hallmark.dev/ns#registry" },
      tokenId: { "@id": "https://hallmark.dev/ns#tokenId" },
      transactionHash: { "@id": "https://hallmark.dev/ns#transactionHash" },
    },
  },
  certificateDocument: { "@id": "https://hallmark.dev/ns#certificateDocument", "@type": "@json" },
  /** Salts and values opening the document's personal commitments: the holder's copy, signed with the rest. */
  personalDisclosures: { "@id": "https://hallmark.dev/ns#personalDisclosures", "@type": "@json" },
} as const;

export const CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2";
export const OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
