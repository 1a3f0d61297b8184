/**
 * The gateways' durable delivery memory, in the NATS KV bucket `<prefix>_delivery_progress`
 * (ADR 0005), so that a gateway killed after the network accepted a delivery and before JetStream
 * got the ack does not send it again from its next process:
 * - `p.<network>.<hash of the fan-out id>`: which recipients of a fan-out were served (a bitmap over
 *   its recipient list), written in small batches while the fan-out is served and always before it
 *   is acked; read only when a fan-out comes again (deliveryCount > 1);
 * - `r.<network>.<hash of the recipient delivery id>`: a delivery the network bounced after
 *   accepting it (an XMPP error stanza), waiting for its next attempt.
 * Entries expire with IM_OUTBOUND's own age limit; the bucket is bounded in bytes (oldest first).
 */
import { createHash } from 'node:crypto';
import { StorageType } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { JetStreamBus } from '@parley/bus';
import { logger } from '@parley/observability';
import { imDeliveryV1Schema, kvBuckets, streams, type Network } from '@parley/contracts';
import { z } from 'zod';

/** How long a fan-out's progress is kept: as long as IM_OUTBOUND may hand the fan-out out again. */
const KEEP_MS = streams.imOutbound().maxAgeMs;
/** The bucket's size bound: when full, the oldest entries (long-acked fan-outs) go first. */
const MAX_BYTES = 512 * 1024 * 1024;
/** While a fan-out is being served, its progress is written at most this often (plus once before the ack). */
export const PROGRESS_WRITE_INTERVAL_MS = 50;

export async function openDeliveryProgressBucket(bus: JetStreamBus, replicas = 1): Promise<KV> {
  return new Kvm(bus.nc).create(kvBuckets.deliveryProgress(), {
    description: 'Parley: recipients served per fan-out delivery, and bounced deliveries to retry (gateways)',
    history: 1,
    replicas,
    storage: StorageType.File,
    ttl: KEEP_MS,
    max_bytes: MAX_BYTES,
  });
}

function hashKey(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** The served recipients of a fan-out as a bitmap over its recipient list (≤ 2,000 → ≤ 250 bytes). */
export function encodeServed(served: ReadonlySet<number>, recipients: number): string {
  const bits = new Uint8Array(Math.ceil(recipients / 8));
  for (const index of served) if (index < recipients) bits[index >> 3]! |= 1 << (index & 7);
  return Buffer.from(bits).toString('base64url');
}

export function decodeServed(value: string, recipients: number): Set<number> {
  const bits = Buffer.from(value, 'base64url');
  const served = new Set<number>();
  for (let index = 0; index < recipients; index++) {
    if ((bits[index >> 3] ?? 0) & (1 << (index & 7))) served.add(index);
  }
  return served;
}

/** A bounced delivery waiting for its next attempt. */
export const bouncedDeliverySchema = z.object({
  delivery: imDeliveryV1Schema,
  /** Attempts bounced so far (1 after the first bounce). */
  bounces: z.number().int().min(1),
  /** When the next attempt is due (epoch ms). */
  dueAt: z.number(),
  /** The network's words for the last bounce, e.g. `remote-server-not-found`. */
  reason: z.string(),
  firstBouncedAt: z.number(),
});
export type BouncedDelivery = z.infer<typeof bouncedDeliverySchema>;

export class DeliveryProgressStore {
  constructor(
    private readonly kv: KV,
    private readonly network: Network,
  ) {}

  private progressKey(fanOutId: string): string {
    return `p.${this.network}.${hashKey(fanOutId)}`;
  }

  private bounceKey(deliveryId: string): string {
    return `r.${this.network}.${hashKey(deliveryId)}`;
  }

  /** The recipients (indices) of a fan-out served by any earlier process; empty when none. */
  async served(fanOutId: string, recipients: number): Promise<Set<number>> {
    const entry = await this.kv.get(this.progressKey(fanOutId));
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return new Set();
    return decodeServed(entry.string(), recipients);
  }

  /**
   * Resolves once nats-server has stored every write to the bucket that it had taken in before this
   * call: this is a write of its own, to a key nothing reads, and a stream stores what it is given
   * in order. A process that replays a killed predecessor's fan-outs calls it before it reads their
   * progress: on a loaded server the predecessor's last record, sent before the kill, may still be
   * waiting to be stored, and a read before it would send those recipients the delivery again.
   */
  async settle(): Promise<void> {
    await this.kv.put(`p.${this.network}.settle`, '1');
  }

  async writeServed(fanOutId: string, served: ReadonlySet<number>, recipients: number): Promise<void> {
    await this.kv.put(this.progressKey(fanOutId), encodeServed(served, recipients));
  }

  /** Keeps a bounced delivery until its next attempt (replaces what was kept for it). */
  async keepBounced(bounced: BouncedDelivery): Promise<void> {
    await this.kv.put(this.bounceKey(bounced.delivery.deliveryId), JSON.stringify(bounced));
  }

  async forgetBounced(deliveryId: string): Promise<void> {
    await this.kv.delete(this.bounceKey(deliveryId));
  }

  /** Every bounced delivery of this network kept by an earlier process. */
  async allBounced(): Promise<BouncedDelivery[]> {
    const found: BouncedDelivery[] = [];
    const keys = await this.kv.keys(`r.${this.network}.>`);
    for await (const key of keys) {
      const entry = await this.kv.get(key);
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) continue;
      const parsed = bouncedDeliverySchema.safeParse(entry.json());
      if (parsed.success) found.push(parsed.data);
    }
    return found;
  }
}

/**
 * One fan-out's progress while it is served: a recipient is recorded the moment its delivery is
 * written to the network (`recordNow`, written to the bucket in the same step: the writing step, or
 * the step its send resolved when the adapter could not tell the first), a recipient this process
 * served before and finds missing from the record is added written behind (`mark`, at most every
 * PROGRESS_WRITE_INTERVAL_MS), and one is taken out again if the network then turned out not to
 * have it (`unrecord`); `flush()` writes what is not written yet and must succeed before the
 * fan-out is acked or handed back. Each write holds every recipient served so far, and one
 * connection's writes are stored in the order they were made, so the last one stored is the
 * latest state.
 */
export class FanOutProgress {
  /** Changes so far, and the latest change a successful write held. */
  private version = 0;
  private writtenVersion = 0;
  /** The latest write in flight. */
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writeQueued = false;

  constructor(
    private readonly store: DeliveryProgressStore,
    private readonly fanOutId: string,
    private readonly recipients: number,
    readonly served: Set<number>,
  ) {}

  /** A recipient served earlier whose record is not written yet (nothing new was sent): written behind. */
  mark(index: number): void {
    if (this.served.has(index)) return;
    this.served.add(index);
    this.version += 1;
    this.writeBehind();
  }

  /**
   * A recipient whose delivery was just written to the network: recorded and written at once, in a
   * microtask, so every recipient written in the same step goes in one write and it leaves for NATS
   * before the process does anything else. A gateway killed right after writing a delivery then
   * almost never leaves it unrecorded, and its next process does not send it again
   * (docs/reliability.md). A failed write is not lost: flush() writes everything again.
   */
  recordNow(index: number): void {
    if (this.served.has(index)) return;
    this.served.add(index);
    this.version += 1;
    this.writeSoon();
  }

  /** A recipient recorded by recordNow whose send then failed: not served after all. */
  unrecord(index: number): void {
    if (!this.served.delete(index)) return;
    this.version += 1;
    this.writeSoon();
  }

  /** Writes every change not written yet; rejects if the bucket cannot be written. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing?.catch(() => undefined);
    if (this.version > this.writtenVersion) await this.write();
  }

  private writeSoon(): void {
    if (this.writeQueued) return;
    this.writeQueued = true;
    queueMicrotask(() => {
      this.writeQueued = false;
      void this.write().catch((error: unknown) => this.writeFailed(error));
    });
  }

  private writeBehind(): void {
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write().catch((error: unknown) => this.writeFailed(error));
    }, PROGRESS_WRITE_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * A write before the ack failed: flush() writes everything again before the ack, but a process
   * killed before then leaves these recipients unrecorded (its successor would send to them again).
   */
  private writeFailed(error: unknown): void {
    logger().warn(
      { err: error, fanOutId: this.fanOutId, served: this.served.size },
      'could not record delivery progress yet; written again before the ack',
    );
  }

  private async write(): Promise<void> {
    const version = this.version;
    const writing = this.store.writeServed(this.fanOutId, this.served, this.recipients);
    this.writing = writing;
    try {
      await writing;
      this.writtenVersion = Math.max(this.writtenVersion, version);
    } finally {
      if (this.writing === writing) this.writing = undefined;
    }
    // Changes made while this write was in flight are written behind too.
    if (this.version > this.writtenVersion) this.writeBehind();
  }
}
