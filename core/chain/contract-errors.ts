import type { Interface } from "ethers";

// Reading a contract's refusal out of whatever ethers or the node threw; no contract in particular.

/** A custom error a contract reverted with: its name and arguments. */
export interface ContractError {
  name: string;
  args: unknown[];
}

/** The custom error inside a failed call or estimate, read with the first of `ifaces` that knows it. */
export function decodeContractError(err: unknown, ...ifaces: Interface[]): ContractError | undefined {
  const data = findRevertData(err);
  if (!data) return undefined;
  for (const iface of ifaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return { name: parsed.name, args: [...parsed.args] };
    } catch {}
  }
  return undefined;
}

/** `Name(arg, …)`, as operations' errors quote a contract's refusal. */
export function describeContractError(e: ContractError): string {
  return `${e.name}(${e.args.map(String).join(", ")})`;
}

export function findRevertData(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 5) return undefined;
  const e = err as Record<string, unknown>;
  if (typeof e.data === "string" && e.data.startsWith("0x") && e.data.length >= 10) return e.data;
  for (const key of ["error", "info", "cause", "data"]) {
    const found = findRevertData(e[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Whether a failed call or estimate was the contract's verdict (a revert) rather than the node failing. */
export function isRevert(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "CALL_EXCEPTION" || /revert/i.test(e?.message ?? "");
}
