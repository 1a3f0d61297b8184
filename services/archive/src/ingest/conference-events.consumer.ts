/**
 * The archive's durable consumer of CONF_EVENTS (`archive-events`): @parley/bus's DurableConsumer in
 * batch mode. A lane's backlog is stored with one idempotent INSERT (`ArchiveStore.insertEvents`);
 * when that fails, each event is stored alone under the bus's one retry policy (an outage of
 * PostgreSQL waited out, a bad event dead-lettered). An event that reused a seq is kept and reported
 * here (an error line and `parley_archive_seq_reused_total`). One function, so the service and the
 * ingest benchmark run the same consumer.
 */
import type { DurableConsumer, JetStreamBus } from '@parley/bus';
import { consumers, inboundPartition, streams, type ConferenceEventV1 } from '@parley/contracts';
import { logger } from '@parley/observability';
import type { ArchiveStore } from '../archive/archive-store.js';
import { ingestMetrics } from './ingest.metrics.js';

export interface ConferenceEventsConsumerOptions {
  /** Most events stored per transaction (PARLEY_ARCHIVE_BATCH_SIZE). */
  batchSize: number;
  /** How long an idle lane gathers events before storing them (PARLEY_ARCHIVE_LINGER_MS; 0: at once). */
  lingerMs?: number;
  ackWaitMs?: number;
  /** The bus's retry policy, tunable for tests; defaults are the bus's. */
  maxDeliver?: number;
  backoffMs?: number[];
  /** Another durable name (the benchmark runs several consumers on one stream). */
  durable?: string;
}

/**
 * Lanes exist for throughput, not order (rows are keyed by seq; reads order by seq, then by the
 * collision number an event that reused a seq gets): a conference is in one of INBOUND_PARTITIONS
 * lanes by the stable hash conference-core partitions by, so a batch spans many conferences, a few
 * batches are stored in parallel, and two concurrent transactions never insert the same
 * (conference, seq) — nor number a reused seq twice.
 */
const laneOf = (event: ConferenceEventV1): string => String(inboundPartition(event.conferenceId));

/** Events in hand: a full batch waiting behind the one being stored, in each of a few busy lanes. */
const maxAckPendingFor = (batchSize: number): number => Math.max(4 * batchSize, 256);

/**
 * Stores events; reports each that reused a seq once, after its row committed. Ids and position
 * only: no body (it is a participant's message).
 */
async function storeEvents(store: ArchiveStore, events: ConferenceEventV1[]): Promise<void> {
  const { reused } = await store.insertEvents(events);
  for (const reuse of reused) {
    ingestMetrics.seqReused.inc();
    logger().error(
      {
        conferenceId: reuse.conferenceId,
        seq: reuse.seq,
        collision: reuse.collision,
        eventId: reuse.eventId,
        firstEventId: reuse.firstEventId,
      },
      'conference-core reused a seq another event already had (a lost commit after a failover?); ' +
        'both events are archived, the later one after the first',
    );
  }
}

export function consumeConferenceEvents(
  bus: JetStreamBus,
  store: ArchiveStore,
  options: ConferenceEventsConsumerOptions,
): Promise<DurableConsumer<ReturnType<typeof streams.confEvents>['schema']>> {
  return bus.consume({
    stream: streams.confEvents(),
    durable: options.durable ?? consumers.archiveEvents,
    laneOf,
    maxAckPending: maxAckPendingFor(options.batchSize),
    maxBatch: options.batchSize,
    batchLingerMs: options.lingerMs,
    batchHandler: (events) => storeEvents(store, events),
    handler: (event) => storeEvents(store, [event]),
    ackWaitMs: options.ackWaitMs,
    maxDeliver: options.maxDeliver,
    backoffMs: options.backoffMs,
  });
}
