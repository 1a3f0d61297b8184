/**
 * Subjects, JetStream streams, durable consumers and KV buckets. No other package spells a subject:
 * everything is built here from the bus prefix (see namespace.ts).
 */
import type { z } from 'zod';
import { busPrefix, streamName } from './namespace.js';
import type { Network } from './networks.js';
import {
  conferenceEventV1Schema,
  imInboundV1Schema,
  presenceChangedV1Schema,
  presenceUpdateV1Schema,
} from './messages.v1.js';
import { imDeliveryV2Schema } from './messages.v2.js';
import { ownerEventV1Schema, ownerSubjects } from './owners.v1.js';

/**
 * IM_INBOUND and IM_OUTBOUND are split into partitions by conference (a stable hash of its id):
 * each inbound partition is consumed by one conference-core replica at a time, each outbound
 * partition of a network by one gateway process at a time (gateway-irc), so a conference's messages
 * keep their order while the partitions are shared out. Gateways and conference-core must agree.
 */
export const INBOUND_PARTITIONS = 8;

/** The partition of a conference: FNV-1a of its id, modulo INBOUND_PARTITIONS. */
export function inboundPartition(conferenceId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < conferenceId.length; i++) {
    hash ^= conferenceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % INBOUND_PARTITIONS;
}

/** 0 … INBOUND_PARTITIONS-1. */
export function inboundPartitions(): number[] {
  return Array.from({ length: INBOUND_PARTITIONS }, (_, i) => i);
}

export const subjects = {
  /** Inbound IM traffic for one conference's bot: `im.in.<partition>.<network>.<conference>`. */
  imInbound: (network: Network, conferenceId: string) =>
    `${busPrefix()}.im.in.${inboundPartition(conferenceId)}.${network}.${conferenceId}`,
  /** Everything one gateway may publish inbound (any partition, any conference). */
  imInboundFrom: (network: Network) => `${busPrefix()}.im.in.*.${network}.*`,
  /** One partition of IM_INBOUND (see INBOUND_PARTITIONS). */
  imInboundPartition: (partition: number) => `${busPrefix()}.im.in.${partition}.>`,
  imInboundAll: () => `${busPrefix()}.im.in.>`,
  /** Fan-out deliveries (v2) of one conference: `im.out.<network>.<partition>.<conference>` (ADR 0006). */
  imOutbound: (network: Network, conferenceId: string) =>
    `${busPrefix()}.im.out.${network}.${inboundPartition(conferenceId)}.${conferenceId}`,
  /** Every fan-out delivery for one network's gateway (all partitions). */
  imOutboundNetwork: (network: Network) => `${busPrefix()}.im.out.${network}.>`,
  /** One partition of one network's deliveries (see INBOUND_PARTITIONS). */
  imOutboundPartition: (network: Network, partition: number) =>
    `${busPrefix()}.im.out.${network}.${partition}.>`,
  imOutboundAll: () => `${busPrefix()}.im.out.>`,
  confEvents: (conferenceId: string) => `${busPrefix()}.conf.events.${conferenceId}`,
  confEventsAll: () => `${busPrefix()}.conf.events.>`,
  presenceUpdate: (network: Network) => `${busPrefix()}.presence.update.${network}`,
  presenceUpdateAll: () => `${busPrefix()}.presence.update.>`,
  presenceChanged: (network: Network) => `${busPrefix()}.presence.changed.${network}`,
  presenceChangedAll: () => `${busPrefix()}.presence.changed.>`,
  /** Dead letters of one stream: `dlq.<stream>`. */
  dlq: (stream: string) => `dlq.${stream}`,
  /** Request/reply subject of a service method (core NATS, Nest transport). */
  rpc: (service: ServiceName, method: string) => `${busPrefix()}.rpc.${service}.${method}`,
  /** Everything this prefix owns, for permissions and tests. */
  all: () => `${busPrefix()}.>`,
};

export const SERVICE_NAMES = [
  'api-gateway',
  'accounts',
  'contact-import',
  'conference-core',
  'archive',
  'presence',
  'gateway-xmpp',
  'gateway-irc',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** What a stream is, independent of the NATS client: the bus library turns it into a StreamConfig. */
export interface StreamDefinition<S extends z.ZodType = z.ZodType> {
  /** The stream's name (prefixed). */
  name: string;
  subjects: string[];
  /** The schema every message on this stream must satisfy. */
  schema: S;
  /** How long messages are kept (ms); 0 = forever (limits retention still applies). */
  maxAgeMs: number;
  /** JetStream duplicate window for Nats-Msg-Id (ms). */
  duplicateWindowMs: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export const streams = {
  imInbound: (): StreamDefinition<typeof imInboundV1Schema> => ({
    name: streamName('IM_INBOUND'),
    subjects: [subjects.imInboundAll()],
    schema: imInboundV1Schema,
    maxAgeMs: 7 * DAY,
    duplicateWindowMs: 2 * MINUTE,
  }),
  imOutbound: (): StreamDefinition<typeof imDeliveryV2Schema> => ({
    name: streamName('IM_OUTBOUND'),
    subjects: [subjects.imOutboundAll()],
    schema: imDeliveryV2Schema,
    maxAgeMs: 7 * DAY,
    duplicateWindowMs: 2 * MINUTE,
  }),
  confEvents: (): StreamDefinition<typeof conferenceEventV1Schema> => ({
    name: streamName('CONF_EVENTS'),
    subjects: [subjects.confEventsAll()],
    schema: conferenceEventV1Schema,
    maxAgeMs: 30 * DAY,
    duplicateWindowMs: 2 * MINUTE,
  }),
  presenceUpdates: (): StreamDefinition<typeof presenceUpdateV1Schema> => ({
    name: streamName('PRESENCE_UPDATES'),
    subjects: [subjects.presenceUpdateAll()],
    schema: presenceUpdateV1Schema,
    maxAgeMs: 1 * DAY,
    duplicateWindowMs: 2 * MINUTE,
  }),
  presenceChanges: (): StreamDefinition<typeof presenceChangedV1Schema> => ({
    name: streamName('PRESENCE_CHANGES'),
    subjects: [subjects.presenceChangedAll()],
    schema: presenceChangedV1Schema,
    maxAgeMs: 1 * DAY,
    duplicateWindowMs: 2 * MINUTE,
  }),
  /** Owner facts (owners.v1.ts): deletion, and the closing of a deleted owner's conferences. */
  ownerEvents: (): StreamDefinition<typeof ownerEventV1Schema> => ({
    name: streamName('OWNER_EVENTS'),
    subjects: [ownerSubjects.all()],
    schema: ownerEventV1Schema,
    maxAgeMs: 30 * DAY,
    duplicateWindowMs: 2 * MINUTE,
  }),
};

/** Every stream of the architecture (the DLQ stream is derived from these). */
export function allStreams(): StreamDefinition[] {
  return Object.values(streams).map((make) => make());
}

/** The stream that keeps dead letters of every other stream, for inspection and replay. */
export function dlqStream(): Omit<StreamDefinition, 'schema'> {
  return {
    name: streamName('DLQ'),
    subjects: allStreams().map((s) => subjects.dlq(s.name)),
    maxAgeMs: 30 * DAY,
    duplicateWindowMs: 2 * MINUTE,
  };
}

/** Durable consumer names, one per (service, stream) pair. */
export const consumers = {
  /** The inbox (idempotency) name of conference-core's inbound handling, all partitions. */
  conferenceCoreInbound: 'conference-core-inbound',
  /** The durable consumer of one IM_INBOUND partition. */
  conferenceCoreInboundPartition: (partition: number) => `conference-core-inbound-p${partition}`,
  conferenceCorePresence: 'conference-core-presence',
  archiveEvents: 'archive-events',
  presenceUpdates: 'presence-updates',
  gatewayOutbound: (network: Network) => `gateway-${network}-outbound`,
  /** The durable consumer of one IM_OUTBOUND partition of a network (gateways sharing out by conference). */
  gatewayOutboundPartition: (network: Network, partition: number) =>
    `gateway-${network}-outbound-p${partition}`,
} as const;

/** NATS KV buckets. */
export const kvBuckets = {
  presence: () => streamName('presence').toLowerCase(),
  /**
   * The gateways' durable delivery memory: per fan-out, the recipients already served (written
   * before the ack, so a restarted gateway never resends them), and bounced deliveries awaiting a
   * retry (libs/gateway-kit delivery-progress.ts).
   */
  deliveryProgress: () => streamName('delivery_progress').toLowerCase(),
  /**
   * Which gateway process holds which IM_OUTBOUND partition of its network, and which processes are
   * alive: entries that expire unless renewed (libs/gateway-kit partition-leases.ts, ADR 0006).
   */
  gatewayLeases: () => streamName('gateway_leases').toLowerCase(),
};
