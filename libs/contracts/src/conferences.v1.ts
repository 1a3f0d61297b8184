/**
 * Request/reply contracts of the conferences area (v1), answered by conference-core.
 *
 * Owner operations carry `ownerId` (the api-gateway puts the authenticated owner there); a conference
 * of another owner is answered with `not-found`, never `forbidden`, so ids cannot be probed. Replies
 * are shaped as the REST API returns them: JSON only, dates as ISO 8601 strings.
 * The directory calls (`conferences.forAddress`, `conferences.bot`) serve the network gateways
 * (disco, vCard, probes) and carry no owner.
 */
import { z } from 'zod';
import { aggregatePresenceSchema, conferenceIdSchema, identitySchema } from './messages.v1.js';
import { networkSchema } from './networks.js';
import { defineRpc } from './rpc.js';

export const JOIN_POLICIES = ['invite-only', 'owner-contacts', 'open'] as const;
export const joinPolicySchema = z.enum(JOIN_POLICIES);
export type JoinPolicy = z.infer<typeof joinPolicySchema>;

export const CONFERENCE_STATES = ['draft', 'active', 'terminated'] as const;
export const conferenceStateSchema = z.enum(CONFERENCE_STATES);
export type ConferenceState = z.infer<typeof conferenceStateSchema>;

export const PARTICIPANT_STATES = ['invited', 'authorized', 'joined', 'paused', 'left', 'removed'] as const;
export const participantStateSchema = z.enum(PARTICIPANT_STATES);
export type ParticipantState = z.infer<typeof participantStateSchema>;

/** Time-to-live bounds: one minute to one year; a week unless the owner says otherwise. */
export const TTL_MIN_SECONDS = 60;
export const TTL_MAX_SECONDS = 365 * 24 * 3600;
export const TTL_DEFAULT_SECONDS = 7 * 24 * 3600;
/** How many participants one add-participants call may carry. */
export const MAX_PARTICIPANTS_PER_ADD = 500;

const ownerId = z.string().min(1).max(200);
const isoDate = z.iso.datetime({ offset: true });
// Names end up in bots' screen names, vCards and every relayed notice: no control characters.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const noControl = /^[^\u0000-\u001f\u007f-\u009f]*$/;
// eslint-disable-next-line no-control-regex -- a subject may span lines, nothing else
const noControlButLines = /^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$/;
const conferenceName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(noControl, 'must not contain control characters');
const conferenceSubject = z
  .string()
  .trim()
  .max(500)
  .regex(noControlButLines, 'must not contain control characters');
const ttlSeconds = z.number().int().min(TTL_MIN_SECONDS).max(TTL_MAX_SECONDS);

/** A conference as the owner sees it. */
export const conferenceViewSchema = z.object({
  id: conferenceIdSchema,
  ownerId,
  name: z.string(),
  subject: z.string(),
  ttlSeconds: z.number().int(),
  joinPolicy: joinPolicySchema,
  /** The owner's IM account that represents the owner in the conference; null = the owner takes no part. */
  ownerImAccountId: z.string().nullable(),
  state: conferenceStateSchema,
  /** The bots' screen name, always ending in the Parley suffix, e.g. "Team sync (parley)". */
  botName: z.string(),
  participantCount: z.number().int(),
  createdAt: isoDate,
  updatedAt: isoDate,
  startedAt: isoDate.nullable(),
  terminatedAt: isoDate.nullable(),
});
export type ConferenceView = z.infer<typeof conferenceViewSchema>;

/** Who invited a participant: another participant (by `/invite`), or null for the owner. */
export const inviterSchema = z.object({
  /** Null when that participant has since been cleaned from the list. */
  participantId: z.string().nullable(),
  network: networkSchema,
  address: z.string(),
  displayName: z.string(),
});

export const participantViewSchema = z.object({
  id: z.string(),
  conferenceId: conferenceIdSchema,
  network: networkSchema,
  address: z.string(),
  displayName: z.string(),
  state: participantStateSchema,
  invitedBy: inviterSchema.nullable(),
  invitedAt: isoDate,
  joinedAt: isoDate.nullable(),
  leftAt: isoDate.nullable(),
  messageCount: z.number().int(),
  /** Aggregate presence; null until the presence service answers for this participant. */
  presence: aggregatePresenceSchema.nullable(),
  /**
   * Whether the network proves who the participant is: false for IRC without network accounts,
   * where whoever holds the nick speaks as them.
   */
  verified: z.boolean(),
  /** This participant is the conference's owner (their chosen IM account). */
  isOwner: z.boolean(),
});
export type ParticipantView = z.infer<typeof participantViewSchema>;

const conferenceRef = z.object({ ownerId, conferenceId: z.string().min(1).max(200) });

export const createConferenceRequestSchema = z.object({
  ownerId,
  name: conferenceName,
  subject: conferenceSubject.default(''),
  ttlSeconds: ttlSeconds.default(TTL_DEFAULT_SECONDS),
  joinPolicy: joinPolicySchema.default('invite-only'),
  ownerImAccountId: z.string().min(1).max(200).nullable().default(null),
  /** The identity of `ownerImAccountId` (api-gateway resolved it with accounts): the owner takes part. */
  ownerIdentity: identitySchema.nullable().default(null),
});

export type CreateConferenceRequest = z.infer<typeof createConferenceRequestSchema>;

export const updateConferenceRequestSchema = conferenceRef.extend({
  name: conferenceName.optional(),
  subject: conferenceSubject.optional(),
  ttlSeconds: ttlSeconds.optional(),
  joinPolicy: joinPolicySchema.optional(),
  ownerImAccountId: z.string().min(1).max(200).nullable().optional(),
  /** Given with `ownerImAccountId`: its identity, or null when the owner stops taking part. */
  ownerIdentity: identitySchema.nullable().optional(),
});

export type UpdateConferenceRequest = z.infer<typeof updateConferenceRequestSchema>;

/**
 * Participants to add. `network` is a free string here so that an unknown network is reported
 * for that one entry (like a mistyped address) instead of failing the whole request.
 */
export const addParticipantsRequestSchema = conferenceRef.extend({
  participants: z
    .array(
      z.object({
        network: z.string().max(50),
        address: z.string().max(1000),
        displayName: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .regex(noControl, 'must not contain control characters')
          .optional(),
      }),
    )
    .min(1)
    .max(MAX_PARTICIPANTS_PER_ADD),
});

export type AddParticipantsRequest = z.infer<typeof addParticipantsRequestSchema>;

export const addParticipantsResponseSchema = z.object({
  added: z.array(participantViewSchema),
  /** One entry per rejected participant; `index` points into the request's `participants`. */
  errors: z.array(
    z.object({
      index: z.number().int(),
      field: z.string(),
      network: z.string(),
      address: z.string(),
      code: z.enum(['validation-failed', 'conflict']),
      message: z.string(),
    }),
  ),
});

export type AddParticipantsResponse = z.infer<typeof addParticipantsResponseSchema>;

/** A conference bot as a network gateway needs it (disco, vCard, presence probes). */
export const botInfoSchema = z.object({
  conferenceId: conferenceIdSchema,
  name: z.string(),
  subject: z.string(),
  botName: z.string(),
  state: conferenceStateSchema,
  joinPolicy: joinPolicySchema,
});
export type BotInfo = z.infer<typeof botInfoSchema>;

export const conferencesRpc = {
  create: defineRpc(
    'conference-core',
    'conferences.create',
    createConferenceRequestSchema,
    conferenceViewSchema,
  ),
  list: defineRpc(
    'conference-core',
    'conferences.list',
    z.object({ ownerId }),
    z.object({ conferences: z.array(conferenceViewSchema) }),
  ),
  get: defineRpc('conference-core', 'conferences.get', conferenceRef, conferenceViewSchema),
  update: defineRpc(
    'conference-core',
    'conferences.update',
    updateConferenceRequestSchema,
    conferenceViewSchema,
  ),
  /** draft → active: every invitee gets the bot's authorization request, then the invitation. */
  start: defineRpc('conference-core', 'conferences.start', conferenceRef, conferenceViewSchema),
  /** → terminated: goodbye, revoked authorization, bots offline. */
  close: defineRpc('conference-core', 'conferences.close', conferenceRef, conferenceViewSchema),
  addParticipants: defineRpc(
    'conference-core',
    'participants.add',
    addParticipantsRequestSchema,
    addParticipantsResponseSchema,
  ),
  removeParticipant: defineRpc(
    'conference-core',
    'participants.remove',
    conferenceRef.extend({ participantId: z.string().min(1).max(200) }),
    participantViewSchema,
  ),
  listParticipants: defineRpc(
    'conference-core',
    'participants.list',
    conferenceRef,
    z.object({ participants: z.array(participantViewSchema) }),
  ),
  /** Drops the participants who left or were removed from the list; answers how many. */
  cleanParticipants: defineRpc(
    'conference-core',
    'participants.clean',
    conferenceRef,
    z.object({ removed: z.number().int() }),
  ),
  /** The active conferences an address may join (participant of, or open): disco#items. */
  forAddress: defineRpc(
    'conference-core',
    'conferences.forAddress',
    z.object({ network: networkSchema, address: z.string().min(1).max(1000) }),
    z.object({ conferences: z.array(botInfoSchema) }),
  ),
  /**
   * The bots a gateway brings online when it takes conferences on (start-up, take-over): the active
   * conferences with a participant on `network` (not removed) whose partition is in `partitions`.
   */
  activeBots: defineRpc(
    'conference-core',
    'conferences.activeBots',
    z.object({
      network: networkSchema,
      partitions: z.array(z.number().int().min(0).max(1_000)).min(1).max(1_000),
    }),
    z.object({ conferences: z.array(botInfoSchema) }),
  ),
  /** One conference's bot (any state); `not-found` when there is no such conference. */
  bot: defineRpc(
    'conference-core',
    'conferences.bot',
    z.object({ conferenceId: z.string().min(1).max(200) }),
    botInfoSchema,
  ),
};
