/**
 * Request/reply contracts of the presence area (v1): the aggregate presence of many identities in
 * one request (conference-core's `/list status`, `/list active`, TTL and offline delivery; the
 * owners' REST participant list). Change events travel on PRESENCE_CHANGES (`presenceChangedV1`).
 */
import { z } from 'zod';
import { aggregatePresenceSchema, identitySchema } from './messages.v1.js';
import { defineRpc } from './rpc.js';

/**
 * Identities per request. Sized so a reply stays under NATS's default 1 MB max_payload for
 * realistic addresses (~300 bytes per entry); ask in chunks of this size for larger conferences.
 */
export const MAX_PRESENCE_QUERY_IDENTITIES = 2_000;
/** Status text in query replies is cut to this length (one line in `/list status`); events carry it whole. */
export const PRESENCE_QUERY_STATUS_MAX = 140;

export const presenceQueryRequestSchema = z.object({
  identities: z.array(identitySchema).min(1).max(MAX_PRESENCE_QUERY_IDENTITIES),
});
export type PresenceQueryRequest = z.infer<typeof presenceQueryRequestSchema>;

export const identityPresenceSchema = identitySchema.extend({
  presence: aggregatePresenceSchema,
  status: z.string().max(PRESENCE_QUERY_STATUS_MAX).optional(),
  /** When the aggregate last changed; absent for an identity the presence service has never seen. */
  since: z.iso.datetime({ offset: true }).optional(),
});
export type IdentityPresence = z.infer<typeof identityPresenceSchema>;

export const presenceQueryResponseSchema = z.object({
  /** One entry per requested identity, in request order, with the address as it was asked. */
  presences: z.array(identityPresenceSchema),
});
export type PresenceQueryResponse = z.infer<typeof presenceQueryResponseSchema>;

export const presenceRpc = {
  /** `<prefix>.rpc.presence.query`: aggregate presence of up to MAX_PRESENCE_QUERY_IDENTITIES identities. */
  query: defineRpc('presence', 'query', presenceQueryRequestSchema, presenceQueryResponseSchema),
};
