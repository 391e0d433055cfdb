// Who is calling, apart from how they proved it (api-keys.ts) and what a request carries (context.ts), so both can
// name it without importing each other.

export const API_KEY_SCOPES = ["read", "issue", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface Caller {
  institutionId: string;
  institutionName: string;
  apiKeyId: string;
  scopes: readonly ApiKeyScope[];
  /** The member whose authority the key carries (the one it acts for, else the one that made it); none for operator-made keys. */
  memberId?: string;
  /** A platform operator key: acts for no institution (`institutionId` is "operator"); its only scope is `operator`. */
  operator?: boolean;
}
