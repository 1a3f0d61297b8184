/**
 * Version 2 of IM_OUTBOUND: a fan-out delivery. One message of one conference to many recipients
 * on one network costs one bus message (and one outbox row), not one per recipient; the gateway
 * expands it and keeps per-recipient progress, so a retry never resends to someone served.
 * v1 (`imDeliveryV1Schema`, one recipient) stays the shape a network adapter sends.
 */
import { z } from 'zod';
import { envelopeSchema } from './envelope.js';
import { conferenceIdSchema, imDeliveryV1Schema, MAX_BODY_LENGTH, type ImDeliveryV1 } from './messages.v1.js';
import { MAX_ADDRESS_LENGTH, networkSchema } from './networks.js';

/** Most recipients one fan-out delivery carries (a larger fan-out is split into several). */
export const MAX_RECIPIENTS = 2_000;

export const imDeliveryV2Schema = envelopeSchema.extend({
  /** Stable id of this fan-out; a recipient's delivery id is `<deliveryId>:<recipient>`. */
  deliveryId: z.string().min(1).max(400),
  network: networkSchema,
  conferenceId: conferenceIdSchema,
  /** The bot's screen name, always ending in the Parley suffix, e.g. "Team sync (parley)". */
  botName: z.string().min(1).max(200),
  kind: imDeliveryV1Schema.shape.kind,
  body: z.string().max(MAX_BODY_LENGTH).optional(),
  /** Every recipient, in the order they are served. */
  recipients: z.array(z.string().min(1).max(MAX_ADDRESS_LENGTH)).min(1).max(MAX_RECIPIENTS),
});
export type ImDeliveryV2 = z.infer<typeof imDeliveryV2Schema>;

/** The one-recipient delivery a network adapter sends, for one recipient of a fan-out. */
export function deliveryFor(fanOut: ImDeliveryV2, recipient: string): ImDeliveryV1 {
  const { recipients: _recipients, ...rest } = fanOut;
  return { ...rest, deliveryId: `${fanOut.deliveryId}:${recipient}`, to: recipient };
}

/**
 * The fan-out id and recipient a recipient's delivery id was made of (`deliveryFor`'s inverse), or
 * undefined when it is not one. The recipient is what follows the last `:`: fan-out ids may hold
 * colons (a queued delivery's `<cause>#q<n>:<network>:<address>`), our networks' addresses do not.
 */
export function fanOutOfDelivery(deliveryId: string): { fanOutId: string; recipient: string } | undefined {
  const cut = deliveryId.lastIndexOf(':');
  if (cut <= 0 || cut === deliveryId.length - 1) return undefined;
  return { fanOutId: deliveryId.slice(0, cut), recipient: deliveryId.slice(cut + 1) };
}
