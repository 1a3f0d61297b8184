/**
 * Facts about owners on the bus (v1), on the OWNER_EVENTS stream: an owner deleted their account
 * (published by accounts), and conference-core closed that owner's conferences (carrying their
 * ids, for the archive to delete). Deleting an owner goes through these durable facts so every
 * service that holds the owner's data acts on it even if it is down at that moment.
 */
import { z } from 'zod';
import { envelopeSchema } from './envelope.js';
import { busPrefix } from './namespace.js';

export const ownerSubjects = {
  /** accounts → conference-core: the owner's account is gone; close their conferences. */
  deleted: (ownerId: string) => `${busPrefix()}.owners.deleted.${ownerId}`,
  deletedAll: () => `${busPrefix()}.owners.deleted.>`,
  /** conference-core → archive: the deleted owner's conferences are closed; forget their archive. */
  conferencesClosed: (ownerId: string) => `${busPrefix()}.owners.conferences-closed.${ownerId}`,
  conferencesClosedAll: () => `${busPrefix()}.owners.conferences-closed.>`,
  all: () => `${busPrefix()}.owners.>`,
};

export const ownerDeletedV1Schema = envelopeSchema.extend({
  type: z.literal('owner-deleted'),
  ownerId: z.uuid(),
});
export type OwnerDeletedV1 = z.infer<typeof ownerDeletedV1Schema>;

export const ownerConferencesClosedV1Schema = envelopeSchema.extend({
  type: z.literal('owner-conferences-closed'),
  ownerId: z.uuid(),
  /** Every conference the owner had, whatever its state: the archive deletes all of them. */
  conferenceIds: z.array(z.string().min(1).max(200)).max(100_000),
});
export type OwnerConferencesClosedV1 = z.infer<typeof ownerConferencesClosedV1Schema>;

export const ownerEventV1Schema = z.discriminatedUnion('type', [
  ownerDeletedV1Schema,
  ownerConferencesClosedV1Schema,
]);
export type OwnerEventV1 = z.infer<typeof ownerEventV1Schema>;

/** The message ids of the facts: one per owner, so a retried publish is stored once. */
export const ownerEventIds = {
  deleted: (ownerId: string) => `owner-deleted.${ownerId}`,
  conferencesClosed: (ownerId: string) => `owner-conferences-closed.${ownerId}`,
};

/** Durable consumers of OWNER_EVENTS. */
export const ownerConsumers = {
  conferenceCore: 'conference-core-owners',
  archive: 'archive-owners',
} as const;
