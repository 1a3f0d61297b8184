/**
 * Shares a network's IM_OUTBOUND partitions out between the processes of one gateway (ADR 0006),
 * through the NATS KV bucket `<prefix>_gateway_leases` — gateways have no database, so the bus is
 * where they agree. Every entry expires LEASE_TTL_MS after it was last written (the bucket's age
 * limit; nats-server 2.9 has no per-key TTL):
 * - `<network>.m.<holder>`: a live process, written every RENEW_MS; the processes count each other
 *   by these (a watch, not a listing every round: that cost an idle process more CPU than its
 *   renewals) and each keeps ceil(partitions / processes);
 * - `<network>.p.<partition>`: who holds a partition. Taken with `create` (fails while another
 *   holds it), renewed with `update` on the revision last written (fails once it was lost), given
 *   back with a delete on that revision — only after the holder stopped consuming it.
 * A killed process stops renewing: its entries expire and a survivor takes its partitions on its
 * next round. A live holder counts its lease as valid only until SAFETY_MS before it could expire
 * (measured from when the renewal was sent), and the gateway sends nothing of a partition it does
 * not validly hold: a holder stalled past that point stops sending before anybody else may start.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { JetStreamApiCodes, JetStreamApiError, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { JetStreamBus } from '@parley/bus';
import { kvBuckets, type Network } from '@parley/contracts';
import { logger } from '@parley/observability';

/** How long an entry lives without being written again: a killed holder's partitions wait this long. */
export const LEASE_TTL_MS = 4_000;
/** How often a process renews its entries and checks its share. */
export const RENEW_MS = 1_000;
/** A lease counts as held until this long before it could expire (stalls, clock rates). */
const SAFETY_MS = 1_500;

export interface PartitionLeaseHooks {
  /** The partition is this process's now: start consuming it. */
  acquired(partition: number): Promise<void>;
  /** The partition is no longer (or soon no longer) this process's: stop consuming it, then resolve. */
  released(partition: number): Promise<void>;
}

export async function openGatewayLeasesBucket(bus: JetStreamBus, replicas = 1): Promise<KV> {
  return new Kvm(bus.nc).create(kvBuckets.gatewayLeases(), {
    description: 'Parley: which gateway process holds which outbound partition (gateways shared out)',
    history: 1,
    replicas,
    storage: StorageType.File,
    ttl: LEASE_TTL_MS,
  });
}

export class PartitionLeases {
  /** Partitions held: the revision last written, and until when the lease surely holds (local time). */
  private readonly held = new Map<number, { revision: number; validUntil: number }>();
  /** This process in the bucket: `<host>.<pid>.<random>` (a key token: no dots inside the parts). */
  readonly holder = `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}_${process.pid}_${randomBytes(3).toString('hex')}`;
  /** The other processes' member entries: holder → when the watch last delivered one (local time). */
  private readonly seen = new Map<string, number>();
  private watcher: Awaited<ReturnType<KV['watch']>> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly network: Network,
    private readonly all: number[],
    private readonly hooks: PartitionLeaseHooks,
  ) {}

  /** The partitions this process holds now, in order. */
  get partitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Whether this process may send for a partition now (held, and surely not expired). */
  holds(partition: number): boolean {
    const lease = this.held.get(partition);
    return lease !== undefined && Date.now() < lease.validUntil;
  }

  /** Takes the first share at once, then keeps renewing and rebalancing every RENEW_MS. */
  async start(): Promise<void> {
    await this.rebalance();
    this.timer = setInterval(() => void this.rebalance(), RENEW_MS);
    this.timer.unref();
  }

  /** Stops consuming every partition, then gives them back, so the others take them at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.stop();
    await this.round;
    await Promise.all(this.partitions.map((partition) => this.release(partition)));
    await this.kv.delete(this.memberKey(this.holder)).catch(() => undefined);
  }

  private memberKey(holder: string): string {
    return `${this.network}.m.${holder}`;
  }

  private leaseKey(partition: number): string {
    return `${this.network}.p.${partition}`;
  }

  private rebalance(): Promise<void> {
    if (this.round || this.stopped) return this.round ?? Promise.resolve();
    this.round = this.rebalanceOnce()
      .catch((error: unknown) => logger().warn({ err: error }, 'outbound partition rebalance failed'))
      .finally(() => {
        this.round = null;
      });
    return this.round;
  }

  private async rebalanceOnce(): Promise<void> {
    await Promise.all([this.renew(), this.kv.put(this.memberKey(this.holder), String(Date.now()))]);
    if (!this.watcher) await this.watchMembers();
    const share = Math.ceil(this.all.length / this.members());
    // More than my share (a process joined): give the highest ones back.
    for (const partition of this.partitions.slice(share).reverse()) {
      if (this.stopped) return;
      await this.release(partition);
    }
    for (const partition of this.all) {
      if (this.held.size >= share || this.stopped) break;
      if (this.held.has(partition)) continue;
      const sentAt = Date.now();
      let revision: number;
      try {
        revision = await this.kv.create(this.leaseKey(partition), this.holder);
      } catch {
        continue; // another process holds it
      }
      this.held.set(partition, { revision, validUntil: sentAt + LEASE_TTL_MS - SAFETY_MS });
      logger().info({ partition, holder: this.holder }, 'took on an outbound partition');
      try {
        await this.hooks.acquired(partition);
      } catch (error) {
        logger().error({ err: error, partition }, 'could not start consuming an outbound partition');
        await this.release(partition);
      }
    }
  }

  /** Counts the live processes as the members' entries come in; a new watch after one ended. */
  private async watchMembers(): Promise<void> {
    const prefix = this.memberKey('');
    const watcher = await this.kv.watch({ key: `${prefix}>` });
    this.watcher = watcher;
    void (async () => {
      try {
        for await (const entry of watcher) {
          const holder = entry.key.slice(prefix.length);
          if (entry.operation === 'PUT') this.seen.set(holder, Date.now());
          else this.seen.delete(holder);
        }
      } catch (error) {
        logger().warn({ err: error }, 'the watch of gateway processes ended; starting another');
      } finally {
        if (this.watcher === watcher) this.watcher = null;
      }
    })();
  }

  /** This process and the others whose entry was written within LEASE_TTL_MS (as far as seen). */
  private members(): number {
    const now = Date.now();
    let members = 1;
    for (const [holder, at] of this.seen) {
      if (holder === this.holder) continue;
      if (now - at > LEASE_TTL_MS) this.seen.delete(holder);
      else members++;
    }
    return members;
  }

  /**
   * Renews every lease held, all at once (one write to NATS). One taken by another process (the
   * revision moved on), or not renewed in time, is dropped; a renewal that failed otherwise (NATS
   * away for a moment) is tried again on the next round while the lease is still surely held.
   */
  private async renew(): Promise<void> {
    await Promise.all(this.partitions.map((partition) => this.renewOne(partition)));
  }

  private async renewOne(partition: number): Promise<void> {
    const lease = this.held.get(partition)!;
    const sentAt = Date.now();
    try {
      if (sentAt >= lease.validUntil) throw new Error('not renewed in time');
      lease.revision = await this.kv.update(this.leaseKey(partition), this.holder, lease.revision);
      lease.validUntil = sentAt + LEASE_TTL_MS - SAFETY_MS;
    } catch (error) {
      if (!isTaken(error) && Date.now() < lease.validUntil) {
        logger().warn({ err: error, partition }, 'could not renew an outbound partition; trying again');
        return;
      }
      logger().warn({ err: error, partition }, 'lost an outbound partition; stopping its consumer');
      this.held.delete(partition);
      await this.hooks
        .released(partition)
        .catch((e: unknown) =>
          logger().error({ err: e, partition }, 'could not stop consuming a lost partition'),
        );
    }
  }

  /** Stops consuming a partition, then deletes its lease (on the revision written last). */
  private async release(partition: number): Promise<void> {
    const lease = this.held.get(partition);
    if (!lease) return;
    await this.hooks
      .released(partition)
      .catch((error: unknown) =>
        logger().error({ err: error, partition }, 'could not stop consuming a partition'),
      );
    this.held.delete(partition);
    await this.kv
      .delete(this.leaseKey(partition), { previousSeq: lease.revision })
      .catch((error: unknown) => logger().warn({ err: error, partition }, 'could not give a partition back'));
  }
}

/** Whether an update failed because the entry is no longer the revision this process wrote. */
function isTaken(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence;
}
