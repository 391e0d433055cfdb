import type { TxSender } from "./tx-sender.ts";

/** Headroom over an estimate for batched calls: state touched by other transactions in the same block can cost a little more. */
export function gasLimitFor(estimate: bigint): bigint {
  return (estimate * 12n) / 10n + 50_000n;
}

/** Whether a failed call or estimate was the contract's verdict (a revert) rather than the node failing. */
export function isRevert(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "CALL_EXCEPTION" || /revert/i.test(e?.message ?? "");
}

/** Takes the signing keys in turn, skipping any whose in-flight cap is reached, so transactions spread across them. */
export class SenderRotation {
  private readonly senders: readonly TxSender[];
  private next = 0;

  constructor(senders: readonly TxSender[]) {
    this.senders = senders;
  }

  async pick(): Promise<TxSender | undefined> {
    for (let i = 0; i < this.senders.length; i++) {
      const sender = this.senders[(this.next + i) % this.senders.length]!;
      if ((await sender.inFlightCount()) < sender.maxInFlight) {
        this.next = (this.next + i + 1) % this.senders.length;
        return sender;
      }
    }
    return undefined;
  }
}
