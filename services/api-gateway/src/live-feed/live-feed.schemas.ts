/**
 * What the live feed of a conference carries: every CONF_EVENTS fact exactly as archived (its SSE
 * `id` is the fact's per-conference `seq`), plus presence changes of the conference's participants
 * (`type: "presence"`, no SSE id: presence is a current state, not a fact to replay).
 */
import { z } from 'zod';
import { aggregatePresenceSchema, conferenceEventV1Schema, networkSchema } from '@parley/contracts';

export const presenceFeedEventSchema = z.object({
  type: z.literal('presence'),
  network: networkSchema,
  address: z.string(),
  presence: aggregatePresenceSchema,
  status: z.string().optional(),
  occurredAt: z.iso.datetime({ offset: true }),
});
export type PresenceFeedEvent = z.infer<typeof presenceFeedEventSchema>;

/** The `data:` of one SSE event; its `event:` field is the same `type`. */
export const liveFeedEventSchema = z.discriminatedUnion('type', [
  ...conferenceEventV1Schema.options,
  presenceFeedEventSchema,
]);
export type LiveFeedEvent = z.infer<typeof liveFeedEventSchema>;

/**
 * `Last-Event-ID` (the standard SSE resume header): the `seq` of the last fact the client has.
 * Facts with a greater seq follow; `0` replays every fact the stream still holds. Without it the
 * feed starts with the next fact.
 */
export const lastEventIdSchema = z
  .string()
  .regex(/^\d{1,15}$/, 'Last-Event-ID is the seq of the last event received, a non-negative integer')
  .transform(Number)
  .optional()
  .describe('the id (seq) of the last event received: the feed resumes after it; 0 replays from the start');
