import type { TxSender } from "./tx-sender.ts";

/**
 * Takes the signing keys in turn, skipping any that cannot pay for its transactions (`TxSender.health`) or whose
 * in-flight cap is reached, so transactions spread across the keys that can send them.
 */
export class SenderRotation {
  private readonly senders: readonly TxSender[];
  private next = 0;

  constructor(senders: readonly TxSender[]) {
    this.senders = senders;
  }

  async pick(opts: { except?: TxSender } = {}): Promise<TxSender | undefined> {
    return (await this.pickWithRoom(opts))?.sender;
  }

  /** `pick`, with how many more transactions the key picked may have in flight (at least 1). */
  async pickWithRoom(opts: { except?: TxSender } = {}): Promise<{ sender: TxSender; room: number } | undefined> {
    for (let i = 0; i < this.senders.length; i++) {
      const sender = this.senders[(this.next + i) % this.senders.length]!;
      if (sender === opts.except || !sender.health().canPay) continue;
      const inFlight = await sender.inFlightCount();
      if (inFlight < sender.maxInFlight) {
        this.next = (this.next + i + 1) % this.senders.length;
        return { sender, room: sender.maxInFlight - inFlight };
      }
    }
    return undefined;
  }
}
