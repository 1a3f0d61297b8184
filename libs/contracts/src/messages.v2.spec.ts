import { describe, expect, it } from 'vitest';
import { deliveryFor, fanOutOfDelivery, type ImDeliveryV2 } from './messages.v2.js';

const fanOut = (deliveryId: string): ImDeliveryV2 => ({
  id: 'e1',
  occurredAt: new Date(0).toISOString(),
  deliveryId,
  network: 'xmpp',
  conferenceId: 'team',
  botName: 'Team (parley)',
  kind: 'message',
  body: 'hi',
  recipients: ['bob@example.org'],
});

describe("a recipient's delivery id", () => {
  it.each([
    ['a fan-out of a decision', 'cause-1#0'],
    ['a queued delivery sent as a fan-out to its one recipient', 'cause-1#q2:xmpp:bob@example.org'],
  ])('gives back the fan-out id and the recipient of %s', (_what, fanOutId) => {
    const { deliveryId } = deliveryFor(fanOut(fanOutId), 'bob@example.org');
    expect(fanOutOfDelivery(deliveryId)).toEqual({ fanOutId, recipient: 'bob@example.org' });
  });

  it.each(['no-colon', ':bob@example.org', 'cause-1#0:'])('is not made of a fan-out: %s', (id) => {
    expect(fanOutOfDelivery(id)).toBeUndefined();
  });
});
