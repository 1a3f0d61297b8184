/**
 * NATS permissions per service, derived from these contracts so they cannot drift: each service
 * declares what it does on the bus (streams it publishes to, durable consumers it runs, streams it
 * reads with ephemeral consumers, requests it makes, KV buckets it uses) and `natsPermissions()`
 * turns that into the publish/subscribe allow-lists of its NATS user. `deploy/nats/generate.mjs`
 * writes them as a nats-server accounts config.
 *
 * Least privilege (issue 13): each user receives replies only on its own inbox prefix
 * (`_INBOX_<service>.>`, see `inboxPrefix`), so no service can read another's replies (login
 * tokens, decrypted IM passwords); it may make only the requests listed in its `calls`; and only
 * the stream provisioner may create or change a stream — everyone else may only look one up.
 *
 * A service that starts using the bus in a new way adds it to BUS_NEEDS below — and nowhere else.
 */
import { accountsRpc } from './accounts.v1.js';
import { archiveHistoryCommandRpc, archiveSearchCommandRpc } from './archive.v1.js';
import { conferencesRpc } from './conferences.v1.js';
import { contactSubjects, contactsRpc } from './contacts.v1.js';
import type { Network } from './networks.js';
import { NETWORKS } from './networks.js';
import { ownerConsumers, ownerSubjects } from './owners.v1.js';
import { presenceRpc } from './presence.v1.js';
import { rpcSubject, type RpcDefinition } from './rpc.js';
import {
  consumers,
  dlqStream,
  inboundPartitions,
  kvBuckets,
  streams,
  subjects,
  type ServiceName,
  SERVICE_NAMES,
} from './streams.js';

/** One durable consumer a service runs: the stream and the durable name (see `consumers`). */
interface DurableUse {
  stream: () => { name: string };
  durable: string;
}

/**
 * The reply-subject prefix of a service's NATS connections (nats.js `inboxPrefix`): its user may
 * subscribe to `<prefix>.>` and to no other inbox.
 */
export function inboxPrefix(service: ServiceName): string {
  return `_INBOX_${service}`;
}

/**
 * The one service whose start-up creates and updates the JetStream streams (PARLEY_PROVISION_STREAMS
 * is true for it alone in deployments); the others only check that the streams exist. It is the
 * service at the centre of the streams: it consumes the inbound and presence-change streams and
 * writes the outbound and conference-event ones. See docs/bus.md, "Provisioning".
 */
export const STREAM_PROVISIONER: ServiceName = 'conference-core';

/** A request a service makes: every RPC of a service, or one RPC. */
export type RpcCall = ServiceName | RpcDefinition;

/** What a service does on the bus. Functions, because names depend on the bus prefix. */
export interface BusNeeds {
  /** Subjects it publishes to JetStream streams (wildcards allowed). */
  publishes: () => string[];
  /** Durable consumers it creates and pulls from (it may also dead-letter their messages). */
  durables: () => DurableUse[];
  /** Stream names it reads with ephemeral/ordered consumers (e.g. a live feed) or message gets. */
  reads: () => string[];
  /** The requests it makes: all RPCs of a service (`'archive'`), or single ones (`presenceRpc.query`). */
  calls: RpcCall[];
  /** KV buckets it reads and writes. */
  kv: () => string[];
  /** Core NATS subjects it subscribes to beyond its own RPCs (e.g. import progress for SSE). */
  subscribes?: () => string[];
  /**
   * Whether it may ask accounts for an owner's decrypted IM credentials (it logs in as the owner):
   * everyone else is denied that one subject even when it may call accounts.
   */
  imCredentials?: boolean;
}

const allNetworks = (fn: (network: Network) => string) => NETWORKS.map(fn);
const gatewayNeeds = (network: Network, sharedOut = false): BusNeeds => ({
  publishes: () => [subjects.imInboundFrom(network), subjects.presenceUpdate(network)],
  // One consumer for the whole network (active/standby, or IRC's pooled mode), and, for a gateway
  // shared out between processes by conference, one per partition (ADR 0006).
  durables: () => [
    { stream: streams.imOutbound, durable: consumers.gatewayOutbound(network) },
    ...(sharedOut
      ? inboundPartitions().map((partition) => ({
          stream: streams.imOutbound,
          durable: consumers.gatewayOutboundPartition(network, partition),
        }))
      : []),
  ],
  // A bounce for a delivery another process sent: its fan-out is looked up in IM_OUTBOUND
  // (GatewayRuntime.recoverBounced).
  reads: () => [streams.imOutbound().name],
  // Conference lookups (the bot's name and state, service discovery) and nothing else. A gateway
  // never asks accounts for anything, least of all an owner's IM credentials: contact import
  // (issue: import contacts) is to come through ONE path — contact-import asks accounts for the
  // credentials and hands them to the gateway in its own fetch-roster request, which the gateway
  // answers — so a compromised gateway can read no owner's password on its own.
  // Shared out: the bots of the conferences it takes on (brought online at once), and the leases.
  calls: [conferencesRpc.bot, conferencesRpc.forAddress, ...(sharedOut ? [conferencesRpc.activeBots] : [])],
  kv: () => [kvBuckets.deliveryProgress(), ...(sharedOut ? [kvBuckets.gatewayLeases()] : [])],
});

/** The bus needs of every service: the single source of its NATS permissions. */
export const BUS_NEEDS: Record<ServiceName, BusNeeds> = {
  'api-gateway': {
    publishes: () => [],
    durables: () => [],
    // The SSE live feed of a conference reads CONF_EVENTS (its facts) and PRESENCE_CHANGES (its
    // participants' presence) with ordered consumers; OWNER_EVENTS tells it the owners deleted
    // recently, whose tokens it refuses at once.
    reads: () => [streams.confEvents().name, streams.presenceChanges().name, streams.ownerEvents().name],
    // The owners' REST front door: it proxies those services' owner requests (accounts' credential
    // request excepted, see `imCredentials`). Presence joins when its endpoints do.
    calls: ['accounts', 'contact-import', 'conference-core', 'archive'],
    kv: () => [],
    // Import progress (core NATS, published by contact-import) for GET imports/{id}/events.
    subscribes: () => [contactSubjects.importEventsAll()],
  },
  accounts: {
    // The fact that an owner deleted their account (conference-core and archive act on it).
    publishes: () => [ownerSubjects.deleted('*')],
    durables: () => [],
    reads: () => [],
    calls: [],
    kv: () => [],
  },
  'contact-import': {
    // Import progress on core NATS (not a stream).
    publishes: () => [contactSubjects.importEventsAll()],
    durables: () => [],
    reads: () => [],
    // The one path to owners' IM credentials: it reads them to import contacts through a gateway.
    calls: [accountsRpc.imAccountCredentials, 'gateway-xmpp', 'gateway-irc'],
    kv: () => [],
    imCredentials: true,
  },
  'conference-core': {
    publishes: () => [
      ...allNetworks(subjects.imOutboundNetwork),
      subjects.confEvents('*'),
      ownerSubjects.conferencesClosed('*'),
    ],
    durables: () => [
      ...inboundPartitions().map((partition) => ({
        stream: streams.imInbound,
        durable: consumers.conferenceCoreInboundPartition(partition),
      })),
      { stream: streams.presenceChanges, durable: consumers.conferenceCorePresence },
      { stream: streams.ownerEvents, durable: ownerConsumers.conferenceCore },
    ],
    // The outbox relay looks a row tried before the duplicate window ran out up in its stream
    // (ordered consumers, ADR 0007); the seq floor reads a conference's last event (issue 14).
    reads: () => [streams.confEvents().name, streams.imOutbound().name],
    // The bot's /history and /search, presence for /list status, and the owner's contacts for the
    // `owner-contacts` join policy.
    calls: [
      archiveHistoryCommandRpc,
      archiveSearchCommandRpc,
      presenceRpc.query,
      contactsRpc.isContact,
      contactsRpc.ownersWithContact,
    ],
    kv: () => [],
  },
  archive: {
    publishes: () => [],
    durables: () => [
      { stream: streams.confEvents, durable: consumers.archiveEvents },
      { stream: streams.ownerEvents, durable: ownerConsumers.archive },
    ],
    reads: () => [],
    calls: [],
    kv: () => [],
  },
  presence: {
    publishes: () => allNetworks(subjects.presenceChanged),
    durables: () => [{ stream: streams.presenceUpdates, durable: consumers.presenceUpdates }],
    reads: () => [],
    calls: [],
    kv: () => [kvBuckets.presence()],
  },
  'gateway-xmpp': gatewayNeeds('xmpp'),
  'gateway-irc': gatewayNeeds('irc', true),
};

/** A NATS user's permissions, in nats-server's terms. */
export interface NatsPermissions {
  /** `deny` wins over `allow` in nats-server. */
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[] };
  /** Lets a responder publish one reply to the reply subject of a request it received. */
  allowResponses: boolean;
}

const JS_API = '$JS.API';

/** JetStream API subjects to create/update/inspect a stream (the provisioner's, and a KV bucket's owner's). */
function streamProvisioning(stream: string): string[] {
  return ['INFO', 'CREATE', 'UPDATE'].map((op) => `${JS_API}.STREAM.${op}.${stream}`);
}

/** The JetStream API subject to look a stream up (every service checks the streams at start-up). */
function streamInfo(stream: string): string[] {
  return [`${JS_API}.STREAM.INFO.${stream}`];
}

/** The subjects an RPC call may publish to. */
function callSubjects(call: RpcCall): string {
  return typeof call === 'string' ? subjects.rpc(call, '>') : rpcSubject(call);
}

/** JetStream API subjects to manage and pull from one named consumer (or `*` for any). */
function consumerApi(stream: string, consumer: string): string[] {
  return [
    `${JS_API}.CONSUMER.CREATE.${stream}.${consumer}`,
    // With a filter subject, nats.js appends it to the create subject.
    `${JS_API}.CONSUMER.CREATE.${stream}.${consumer}.>`,
    `${JS_API}.CONSUMER.DURABLE.CREATE.${stream}.${consumer}`,
    `${JS_API}.CONSUMER.INFO.${stream}.${consumer}`,
    `${JS_API}.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
    // A replica taking a partition over restarts its consumer after the ack floor (delete + create).
    `${JS_API}.CONSUMER.DELETE.${stream}.${consumer}`,
    // Acks, naks and in-progress go to the message's reply subject.
    `$JS.ACK.${stream}.${consumer}.>`,
  ];
}

/** The NATS permissions of a service's user. */
export function natsPermissions(service: ServiceName): NatsPermissions {
  const needs = BUS_NEEDS[service];
  const allStreamNames = [...Object.values(streams).map((make) => make().name), dlqStream().name];
  const publish = new Set<string>([
    // Account info: the JetStream manager checks the API is there.
    `${JS_API}.INFO`,
    ...allStreamNames.flatMap(service === STREAM_PROVISIONER ? streamProvisioning : streamInfo),
    ...needs.publishes(),
    ...needs.calls.map(callSubjects),
  ]);
  const subscribe = new Set<string>([
    // Its own RPCs (queue group = service name) and its own reply inbox only (its requests'
    // replies, JetStream API answers and pulled messages): never another service's replies.
    subjects.rpc(service, '>'),
    `${inboxPrefix(service)}.>`,
    ...(needs.subscribes?.() ?? []),
  ]);
  for (const { stream, durable } of needs.durables()) {
    const name = stream().name;
    consumerApi(name, durable).forEach((s) => publish.add(s));
    // A message that cannot be handled goes to the dead-letter subject of its stream.
    publish.add(subjects.dlq(name));
  }
  for (const name of needs.reads()) {
    consumerApi(name, '*').forEach((s) => publish.add(s));
    publish.add(`${JS_API}.CONSUMER.DELETE.${name}.*`);
    // One stored message (e.g. the last on a subject).
    publish.add(`${JS_API}.STREAM.MSG.GET.${name}`);
  }
  for (const bucket of needs.kv()) {
    const stream = `KV_${bucket}`;
    streamProvisioning(stream).forEach((s) => publish.add(s));
    consumerApi(stream, '*').forEach((s) => publish.add(s));
    publish.add(`${JS_API}.CONSUMER.DELETE.${stream}.*`);
    publish.add(`${JS_API}.DIRECT.GET.${stream}.>`);
    publish.add(`${JS_API}.DIRECT.GET.${stream}`);
    publish.add(`${JS_API}.STREAM.MSG.GET.${stream}`);
    publish.add(`$KV.${bucket}.>`);
  }
  const deny = needs.imCredentials ? [] : [rpcSubject(accountsRpc.imAccountCredentials)];
  return {
    publish: { allow: [...publish], deny },
    subscribe: { allow: [...subscribe] },
    allowResponses: true,
  };
}

/** Every service's permissions, in SERVICE_NAMES order. */
export function allNatsPermissions(): Array<{ service: ServiceName; permissions: NatsPermissions }> {
  return SERVICE_NAMES.map((service) => ({ service, permissions: natsPermissions(service) }));
}

/** The environment variable holding a NATS user's password (never written into a config file). */
export function natsPasswordVariable(user: ServiceName | 'admin'): string {
  return `PARLEY_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
}

/** The NATS account every Parley user belongs to (JetStream enabled for it). */
export const NATS_ACCOUNT = 'PARLEY';

const quoted = (values: string[], indent: string) =>
  values.length === 0
    ? '[]'
    : `[\n${values.map((v) => `${indent}  ${JSON.stringify(v)}`).join('\n')}\n${indent}]`;

/**
 * A nats-server `accounts` block: one user per service with exactly its permissions, plus an
 * unrestricted `admin` user for operators. Passwords are `$VARIABLES` that nats-server resolves from
 * its environment at start-up (it refuses to start if one is missing), so no secret is in the file.
 */
export function natsAccountsConfig(): string {
  const users = allNatsPermissions().map(({ service, permissions }) =>
    [
      '      {',
      `        user: ${JSON.stringify(service)}`,
      `        password: $${natsPasswordVariable(service)}`,
      '        permissions: {',
      `          publish: {`,
      `            allow: ${quoted(permissions.publish.allow, '            ')}`,
      `            deny: ${quoted(permissions.publish.deny, '            ')}`,
      `          }`,
      `          subscribe: { allow: ${quoted(permissions.subscribe.allow, '          ')} }`,
      `          allow_responses: ${permissions.allowResponses}`,
      '        }',
      '      }',
    ].join('\n'),
  );
  users.push(
    [
      '      {',
      '        user: "admin"',
      `        password: $${natsPasswordVariable('admin')}`,
      '      }',
    ].join('\n'),
  );
  return [
    `# NATS accounts for Parley (bus prefix "${subjects.all().slice(0, -2)}").`,
    '# Generated from libs/contracts/src/permissions.ts by `node deploy/nats/generate.mjs`: do not edit.',
    '# Each password is read from the environment variable named after `$`. nats-server parses its value',
    '# as a config token: use letters and digits only, starting with a letter (e.g. p + `openssl rand -hex 24`).',
    'accounts {',
    `  ${NATS_ACCOUNT} {`,
    '    jetstream: enabled',
    '    users: [',
    users.join('\n'),
    '    ]',
    '  }',
    '}',
    '',
  ].join('\n');
}
