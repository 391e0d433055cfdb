// The Digital Credentials Consortium's libraries, used only by the tests as an independent verifier, ship no typings.
declare module "@digitalcredentials/vc" {
  export function verifyCredential(opts: {
    credential: object;
    suite: unknown;
    documentLoader: (url: string) => Promise<{ contextUrl: string | null; documentUrl: string; document: unknown }>;
    checkStatus?: (opts: any) => Promise<any>;
    now?: Date;
  }): Promise<{ verified: boolean; error?: any; statusResult?: any; results?: unknown[] }>;
}
declare module "@digitalcredentials/vc-bitstring-status-list" {
  export function checkStatus(opts: any): Promise<{ verified: boolean; results?: any[]; error?: unknown }>;
  export function decodeList(opts: { encodedList: string }): Promise<{ length: number; getStatus(index: number): boolean }>;
}
declare module "@digitalcredentials/data-integrity" {
  export class DataIntegrityProof {
    constructor(opts: { cryptosuite: unknown });
  }
}
declare module "@digitalcredentials/eddsa-rdfc-2022-cryptosuite" {
  export const cryptosuite: unknown;
}
declare module "@digitalcredentials/ed25519-multikey" {
  export function from(key: { publicKeyMultibase: string }): Promise<unknown>;
}
declare module "@digitalcredentials/did-method-key" {
  export function driver(): {
    use(opts: { multibaseMultikeyHeader: string; fromMultibase: (key: { publicKeyMultibase: string }) => Promise<unknown> }): void;
    get(opts: { did?: string; url?: string }): Promise<unknown>;
  };
}
declare module "@digitalcredentials/credentials-v2-context" {
  export const contexts: Map<string, unknown>;
}
