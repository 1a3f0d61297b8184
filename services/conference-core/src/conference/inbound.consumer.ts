/**
 * IM_INBOUND, shared out between conference-core replicas. The stream is split into partitions by
 * conference (INBOUND_PARTITIONS, a hash of the conference id in the subject); each partition is
 * consumed by the one replica that holds its PostgreSQL advisory lock. Inside a partition every
 * conference is a lane: its messages are handled one at a time in accepted order, other
 * conferences' in parallel, so one slow or failing conference holds up nobody else.
 *
 * - Replicas count each other by a membership advisory lock each holds, and each keeps
 *   ceil(partitions / replicas) partitions: a new replica gets its share within a rebalance period.
 * - A replica that dies loses its database session and with it its locks (at once for a killed
 *   process); another takes the partitions over on its next rebalance. It first relays every
 *   outbox row committed so far, then restarts the partition's consumer just after its ack floor:
 *   what the dead one had in hand comes again, in order, before anything newer (the inbox claim
 *   skips what it had finished).
 * - A partition is released only after its consumer stopped (the event in hand finished, the rest
 *   handed back): two replicas never handle one conference at once.
 */
import { randomInt } from 'node:crypto';
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { JetStreamBus, type DurableConsumer } from '@parley/bus';
import {
  INBOUND_PARTITIONS,
  consumers,
  inboundPartitions,
  streams,
  subjects,
  type ImInboundV1,
} from '@parley/contracts';
import { logger } from '@parley/observability';
import { preparedQuery } from '@parley/persistence';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { InboundService } from './inbound.service.js';

/** How often a replica checks its share of partitions (and takes over a dead one's). */
const REBALANCE_MS = 1_000;
/** Replicas alive: holders of the membership lock. Every second on every replica, so prepared. */
const COUNT_MEMBERS = `SELECT count(*)::int AS members FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = ($1::bigint & 4294967295)::oid`;
/** Conferences in flight per partition (messages pulled and not yet acked). */
const IN_FLIGHT_PER_PARTITION = 256;

type InboundSchema = ReturnType<typeof streams.imInbound>['schema'];

@Injectable()
export class InboundConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly owned = new Map<number, DurableConsumer<InboundSchema>>();
  private locks: QueryRunner | undefined;
  private timer: NodeJS.Timeout | undefined;
  private rebalancing: Promise<void> | null = null;
  private stopped = false;
  /** Advisory lock keys of this service's schema: [members, partitions]. */
  private keys: [number, number] = [0, 0];
  private readonly memberId = randomInt(1, 2 ** 31 - 1);

  constructor(
    private readonly bus: JetStreamBus,
    private readonly inbound: InboundService,
    private readonly relay: OutboxRelay,
    private readonly dataSource: DataSource,
  ) {}

  /** The partitions this replica consumes now. */
  get partitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.locks = this.dataSource.createQueryRunner();
    await this.locks.connect();
    const [{ schema }] = (await this.locks.query('SELECT current_schema() AS schema')) as [
      { schema: string },
    ];
    const keys = partitionLockKeys(schema);
    this.keys = [keys.members, keys.partitions];
    await this.locks.query('SELECT pg_advisory_lock($1, $2)', [this.keys[0], this.memberId]);
    await this.rebalance();
    this.timer = setInterval(() => void this.rebalance(), REBALANCE_MS);
    this.timer.unref();
  }

  /** Finishes the events in hand, then lets the partitions go (another replica takes them over). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.rebalancing;
    // Consumers stop side by side; the locks' one session is then asked one query at a time.
    const consumers = [...this.owned.values()];
    await Promise.all(consumers.map((c) => c.stop()));
    for (const partition of this.partitions) await this.unlock(partition);
    this.owned.clear();
    await this.locks?.release().catch(() => undefined);
  }

  private rebalance(): Promise<void> {
    if (this.rebalancing || this.stopped) return this.rebalancing ?? Promise.resolve();
    this.rebalancing = this.rebalanceOnce()
      .catch(async (error: unknown) => {
        // The locks' session may be gone (database restart): then another replica may already own
        // our partitions. Stop consuming at once and start over with a new session.
        logger().error({ err: error }, 'inbound partition rebalance failed; starting over');
        await this.startOver();
      })
      .finally(() => {
        this.rebalancing = null;
      });
    return this.rebalancing;
  }

  private async rebalanceOnce(): Promise<void> {
    const locks = this.locks!;
    const [{ members }] = (await preparedQuery<{ members: number }>(locks.manager, COUNT_MEMBERS, [
      this.keys[0],
    ])) as [{ members: number }];
    const share = Math.ceil(INBOUND_PARTITIONS / Math.max(members, 1));
    // More than my share (a replica joined): give the highest ones back.
    for (const partition of this.partitions.slice(share).reverse()) await this.release(partition);
    for (const partition of inboundPartitions()) {
      if (this.owned.size >= share || this.stopped) break;
      if (this.owned.has(partition)) continue;
      const [{ locked }] = (await locks.query('SELECT pg_try_advisory_lock($1, $2) AS locked', [
        this.keys[1],
        partition,
      ])) as [{ locked: boolean }];
      if (locked) await this.takeOver(partition);
    }
  }

  private async startOver(): Promise<void> {
    const consumers = [...this.owned.values()];
    this.owned.clear();
    await Promise.all(consumers.map((c) => c.stop()));
    await this.locks?.release().catch(() => undefined);
    try {
      this.locks = this.dataSource.createQueryRunner();
      await this.locks.connect();
      await this.locks.query('SELECT pg_advisory_lock($1, $2)', [this.keys[0], this.memberId]);
    } catch (error) {
      logger().warn({ err: error }, 'database not reachable for partition locks; retrying');
    }
  }

  private async takeOver(partition: number): Promise<void> {
    try {
      // What a dead owner committed but never published goes out before anything newer.
      await this.relay.drain();
      const consumer = await this.bus.consume({
        stream: streams.imInbound(),
        durable: consumers.conferenceCoreInboundPartition(partition),
        filterSubject: subjects.imInboundPartition(partition),
        handler: (event: ImInboundV1) => this.inbound.handleInbound(event),
        // A conference's backlog is decided in one transaction (all or nothing; one by one on failure).
        batchHandler: (events: ImInboundV1[]) => this.inbound.handleBatch(events),
        maxBatch: 32,
        laneOf: (event: ImInboundV1) => event.conferenceId,
        maxAckPending: IN_FLIGHT_PER_PARTITION,
        resetToAckFloor: true,
        // A message that fails for a reason of its own is retried a few times, then dead-lettered
        // and its sender told; only its conference waits meanwhile. A database outage is waited out.
        maxDeliver: 5,
        onDeadLetter: (event: ImInboundV1) => this.inbound.tellSenderNotProcessed(event),
      });
      this.owned.set(partition, consumer);
      logger().info({ partition, partitions: this.partitions }, 'took over an inbound partition');
    } catch (error) {
      await this.unlock(partition);
      throw error;
    }
  }

  private async release(partition: number): Promise<void> {
    const consumer = this.owned.get(partition);
    this.owned.delete(partition);
    await consumer?.stop();
    await this.unlock(partition);
  }

  private async unlock(partition: number): Promise<void> {
    await this.locks
      ?.query('SELECT pg_advisory_unlock($1, $2)', [this.keys[1], partition])
      .catch((error: unknown) =>
        logger().warn({ err: error, partition }, 'could not release a partition lock'),
      );
  }
}

/**
 * The advisory lock keys of one conference-core schema (first key; the second is the member id or
 * the partition): `pg_locks` shows them as classid, objid with objsubid 2.
 */
export function partitionLockKeys(schema: string): { members: number; partitions: number } {
  return {
    members: lockKey(`${schema}.inbound-members`),
    partitions: lockKey(`${schema}.inbound-partitions`),
  };
}

/** A stable 31-bit key for an advisory lock name (FNV-1a). */
function lockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash & 0x7fffffff;
}
