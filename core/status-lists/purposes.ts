/**
 * The W3C Bitstring Status List v1.0 (W3C Recommendation, May 2025) lists each certificate collection publishes: one
 * bit per certificate and purpose. A revoked (or superseded, by a recovery) certificate has its revocation bit set
 * for good; a suspended one its suspension bit, cleared again when the suspension is lifted.
 */
export const STATUS_PURPOSES = ["revocation", "suspension"] as const;
export type StatusPurpose = (typeof STATUS_PURPOSES)[number];

export function isStatusPurpose(value: string): value is StatusPurpose {
  return (STATUS_PURPOSES as readonly string[]).includes(value);
}

/** The spec's minimum: 16 KiB of bits, so that one certificate hides among at least 131,072 positions. */
export const MIN_LIST_LENGTH = 131_072;

/** Where a collection's list for one purpose is served: stable, so credentials handed out keep pointing at it. */
export function statusListUrl(baseUrl: string, collectionId: string, purpose: StatusPurpose): string {
  return `${baseUrl.replace(/\/+$/, "")}/status-lists/${collectionId}/${purpose}`;
}

export interface BitstringStatusListEntry {
  id: string;
  type: "BitstringStatusListEntry";
  statusPurpose: StatusPurpose;
  statusListIndex: string;
  statusListCredential: string;
}

/** The `credentialStatus` of an exported credential: its bit in each of its collection's lists. */
export function statusEntries(baseUrl: string, collectionId: string, index: number): BitstringStatusListEntry[] {
  return STATUS_PURPOSES.map((purpose) => {
    const list = statusListUrl(baseUrl, collectionId, purpose);
    return { id: `${list}#${index}`, type: "BitstringStatusListEntry", statusPurpose: purpose, statusListIndex: String(index), statusListCredential: list };
  });
}
