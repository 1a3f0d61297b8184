/**
 * Version 1 of every message carried by a JetStream stream. A breaking change adds a v2 file;
 * it never edits these in place. Every consumer parses with these schemas at runtime.
 */
import { z } from 'zod';
import { envelopeSchema } from './envelope.js';
import { MAX_ADDRESS_LENGTH, networkSchema } from './networks.js';

/** Readable conference id: a slug of the name plus randomness, e.g. `team-sync-k4q7`. Also a subject token. */
export const conferenceIdSchema = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/,
    'a conference id is lower-case letters, digits and dashes',
  );

const address = z.string().min(1).max(MAX_ADDRESS_LENGTH);
/** Message bodies are capped: a 100 kB paste is refused by the gateway, not carried around. */
export const MAX_BODY_LENGTH = 16_384;
const body = z.string().max(MAX_BODY_LENGTH);

export const identitySchema = z.object({ network: networkSchema, address });
export type Identity = z.infer<typeof identitySchema>;

/** IM_INBOUND: what a gateway received from a network for one conference bot. */
export const imInboundV1Schema = z.discriminatedUnion('kind', [
  envelopeSchema.extend({
    kind: z.literal('message'),
    network: networkSchema,
    conferenceId: z.string().min(1).max(200),
    from: address,
    fromResource: z.string().max(1023).optional(),
    displayName: z.string().max(200).optional(),
    body,
  }),
  envelopeSchema.extend({
    kind: z.literal('subscription'),
    network: networkSchema,
    conferenceId: z.string().min(1).max(200),
    from: address,
    /** subscribe/unsubscribe: the user asks; subscribed/unsubscribed: the user answered the bot. */
    subscription: z.enum(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']),
  }),
]);
export type ImInboundV1 = z.infer<typeof imInboundV1Schema>;

/** IM_OUTBOUND: exactly one delivery to one recipient; acked by the gateway once the network took it. */
export const imDeliveryV1Schema = envelopeSchema.extend({
  /** `<message id>:<recipient>` — the de-duplication key of this delivery. */
  deliveryId: z.string().min(1).max(600),
  network: networkSchema,
  conferenceId: conferenceIdSchema,
  /** The bot's screen name, always ending in the Parley suffix, e.g. "Team sync (parley)". */
  botName: z.string().min(1).max(200),
  to: address,
  kind: z.enum(['message', 'authorization-request', 'revoke-authorization', 'bot-online', 'bot-offline']),
  body: body.optional(),
});
export type ImDeliveryV1 = z.infer<typeof imDeliveryV1Schema>;

const participantRef = identitySchema.extend({ displayName: z.string().max(200) });

/** CONF_EVENTS: facts about a conference, each with its per-conference sequence number. */
const conferenceEventBase = envelopeSchema.extend({
  conferenceId: conferenceIdSchema,
  /** Assigned by conference-core in the transaction that recorded the fact; gap-free per conference. */
  seq: z.number().int().positive(),
});
export const conferenceEventV1Schema = z.discriminatedUnion('type', [
  conferenceEventBase.extend({
    type: z.literal('conference-started'),
    name: z.string(),
    subject: z.string(),
  }),
  conferenceEventBase.extend({
    type: z.literal('conference-terminated'),
    reason: z.enum(['closed', 'ttl-expired']),
  }),
  conferenceEventBase.extend({ type: z.literal('message-accepted'), sender: participantRef, body }),
  conferenceEventBase.extend({
    type: z.literal('participant-invited'),
    participant: participantRef,
    invitedBy: participantRef.nullable(),
  }),
  conferenceEventBase.extend({
    type: z.enum([
      'participant-authorized',
      'participant-joined',
      'participant-left',
      'participant-paused',
      'participant-resumed',
      'participant-removed',
    ]),
    participant: participantRef,
  }),
]);
export type ConferenceEventV1 = z.infer<typeof conferenceEventV1Schema>;
export type ConferenceEventType = ConferenceEventV1['type'];

/** A client's raw presence as a gateway saw it (one resource/connection of one identity). */
export const presenceShowSchema = z.enum(['chat', 'online', 'away', 'xa', 'dnd', 'offline']);
export type PresenceShow = z.infer<typeof presenceShowSchema>;
export const presenceUpdateV1Schema = envelopeSchema.extend({
  network: networkSchema,
  address,
  /** The client/connection the presence belongs to (XMPP resource; IRC: the connection). */
  resource: z.string().max(1023),
  show: presenceShowSchema,
  status: z.string().max(1024).optional(),
});
export type PresenceUpdateV1 = z.infer<typeof presenceUpdateV1Schema>;

/** The aggregate presence of one identity over all its clients. */
export const aggregatePresenceSchema = z.enum(['busy', 'online', 'away', 'xa', 'offline']);
export type AggregatePresence = z.infer<typeof aggregatePresenceSchema>;
export const presenceChangedV1Schema = envelopeSchema.extend({
  network: networkSchema,
  address,
  presence: aggregatePresenceSchema,
  status: z.string().max(1024).optional(),
});
export type PresenceChangedV1 = z.infer<typeof presenceChangedV1Schema>;
