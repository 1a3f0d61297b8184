/**
 * The message deliveries a gateway sent recently, kept to recognise a bounce (the network refusing a
 * delivery after it accepted it) and to retry it with its body and its count of bounces so far.
 *
 * Memory is bounded by count and by bytes: per recipient a small entry (its address and bounces),
 * and what the recipients of one fan-out share — the bot name, the body — once per fan-out, weighed
 * by its body. Bounded by count alone, a participant writing 16,384 characters at the sender rate to
 * a conference of two would have the last 100,000 deliveries hold gigabytes; counted per recipient,
 * a long message to a conference of 500 would push out all but the last few. A bounce whose shared
 * part was forgotten is rebuilt from IM_OUTBOUND by the runtime, keeping its count of bounces.
 */
import { fanOutOfDelivery, type ImDeliveryV1 } from '@parley/contracts';
import { BoundedMap } from '@parley/runtime';

/** What every recipient of a fan-out shares: a delivery without its id and recipient. */
type Shared = Omit<ImDeliveryV1, 'deliveryId' | 'to'>;

export interface Remembered {
  /** The delivery as it was sent, or undefined when what its recipients share was forgotten. */
  delivery: ImDeliveryV1 | undefined;
  bounces: number;
}

export class BounceMemory {
  private readonly recipients: BoundedMap<string, { to: string; shared: string; bounces: number }>;
  private readonly shared: BoundedMap<string, Shared>;

  /**
   * @param entries most deliveries remembered
   * @param bytes most bytes of bodies remembered (UTF-16: two per character, each body once)
   */
  constructor(entries: number, bytes: number) {
    this.recipients = new BoundedMap(entries);
    this.shared = new BoundedMap(entries, { weigh: (shared) => 2 * (shared.body?.length ?? 0), max: bytes });
  }

  /** Remembers a delivery about to be sent (the `bounces` it had before). */
  remember(delivery: ImDeliveryV1, bounces: number): void {
    const { deliveryId, to } = delivery;
    // A recipient's delivery id is `<fan-out id>:<recipient>`: its fan-out's recipients share the rest.
    const key = fanOutOfDelivery(deliveryId)?.fanOutId ?? deliveryId;
    if (!this.shared.get(key)) {
      const { deliveryId: _deliveryId, to: _to, ...shared } = delivery;
      this.shared.set(key, shared);
    }
    this.recipients.set(deliveryId, { to, shared: key, bounces });
  }

  /** The delivery with this id, forgotten from now on; undefined when it was never remembered. */
  take(deliveryId: string): Remembered | undefined {
    const entry = this.recipients.get(deliveryId);
    if (!entry) return undefined;
    this.recipients.delete(deliveryId);
    const shared = this.shared.get(entry.shared);
    return {
      delivery: shared ? { ...shared, deliveryId, to: entry.to } : undefined,
      bounces: entry.bounces,
    };
  }

  /** Forgets a delivery (it failed before the network took it: nothing can bounce). */
  forget(deliveryId: string): void {
    this.recipients.delete(deliveryId);
  }
}
