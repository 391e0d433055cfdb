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
    for (let i = 0; i < this.senders.length; i++) {
      const sender = this.senders[(this.next + i) % this.senders.length]!;
      if (sender === opts.except || !sender.health().canPay) continue;
      if ((await sender.inFlightCount()) < sender.maxInFlight) {
        this.next = (this.next + i + 1) % this.senders.length;
        return sender;
      }
    }
    return undefined;
  }
}
