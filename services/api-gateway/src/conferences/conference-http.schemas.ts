/**
 * The REST shapes of conferences and participants, derived from the conference-core contracts so
 * limits live in one place: the bodies are the RPC requests without `ownerId` / `conferenceId`
 * (those come from the token and the path), made strict so unknown fields are rejected by name.
 */
import { z } from 'zod';
import {
  accountsIdSchema,
  addParticipantsRequestSchema,
  conferenceIdSchema,
  conferenceViewSchema,
  createConferenceRequestSchema,
  MAX_PARTICIPANTS_PER_ADD,
  participantViewSchema,
  updateConferenceRequestSchema,
} from '@parley/contracts';

export const conferenceIdParam = conferenceIdSchema;
/** conference-core hands out UUIDs; anything else cannot name a participant. */
export const participantIdParam = z.uuid('a participant id is a UUID');

/** IM account ids are the accounts service's UUIDs; that it is one of the caller's is checked on use. */
const ownerImAccountId = accountsIdSchema.nullable();

export const createConferenceBodySchema = z.strictObject({
  ...createConferenceRequestSchema.omit({ ownerId: true }).shape,
  ownerImAccountId: ownerImAccountId.default(null),
});

export const updateConferenceBodySchema = z
  .strictObject({
    ...updateConferenceRequestSchema.omit({ ownerId: true, conferenceId: true }).shape,
    ownerImAccountId: ownerImAccountId.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, {
    message: 'send at least one of name, subject, ttlSeconds, joinPolicy, ownerImAccountId',
    // A root issue would be reported as "the body must be a JSON object"; name the body instead.
    path: ['body'],
  });

const participantEntry = addParticipantsRequestSchema.shape.participants.element;
export const addParticipantsBodySchema = z.strictObject({
  participants: z.array(z.strictObject(participantEntry.shape)).min(1).max(MAX_PARTICIPANTS_PER_ADD),
});

/** Collections answer `{ items }`, like every list of the API. */
export const conferenceListSchema = z.object({ items: z.array(conferenceViewSchema) });
export const participantListSchema = z.object({ items: z.array(participantViewSchema) });
