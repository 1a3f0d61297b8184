import { describe, expect, it } from 'vitest';
import { MAX_BODY_LENGTH, deliveryFor, newEnvelope, type ImDeliveryV2 } from '@parley/contracts';
import { BounceMemory } from './bounce-memory.js';

const fanOut = (id: string, body: string, recipients: string[]): ImDeliveryV2 => ({
  ...newEnvelope(),
  deliveryId: id,
  network: 'xmpp',
  conferenceId: 'memory-test',
  botName: 'Memory (parley)',
  kind: 'message',
  body,
  recipients,
});

describe('BounceMemory', () => {
  it('gives back each recipient’s delivery as it was sent, with its bounces so far, once', () => {
    const memory = new BounceMemory(100, 1_000);
    const sent = fanOut('f1', 'hello', ['alice@x', 'bob@x']);
    const [alice, bob] = sent.recipients.map((to) => deliveryFor(sent, to));
    memory.remember(alice!, 0);
    memory.remember(bob!, 2);
    expect(memory.take(bob!.deliveryId)).toEqual({ delivery: bob, bounces: 2 });
    expect(memory.take(bob!.deliveryId), 'taken once').toBeUndefined();
    expect(memory.take(alice!.deliveryId)).toEqual({ delivery: alice, bounces: 0 });
    memory.remember(alice!, 1);
    memory.forget(alice!.deliveryId);
    expect(memory.take(alice!.deliveryId)).toBeUndefined();
  });

  it('weighs a fan-out’s body once, whatever its number of recipients', () => {
    // 500 recipients of a body of 400 characters: 800 bytes once, not 400,000.
    const memory = new BounceMemory(1_000, 1_000);
    const recipients = Array.from({ length: 500 }, (_, i) => `p${i}@x`);
    const sent = fanOut('f1', 'x'.repeat(400), recipients);
    for (const to of recipients) memory.remember(deliveryFor(sent, to), 0);
    for (const to of recipients) {
      expect(memory.take(`f1:${to}`)?.delivery?.body, to).toBe(sent.body);
    }
  });

  it('keeps the newest bodies within its bytes, and the bounces of the ones it forgot', () => {
    // One participant writing the longest messages to a conference of two: 1,000 of them.
    const budget = 10 * 2 * MAX_BODY_LENGTH;
    const memory = new BounceMemory(100_000, budget);
    const body = 'y'.repeat(MAX_BODY_LENGTH);
    for (let i = 1; i <= 1_000; i++)
      memory.remember(deliveryFor(fanOut(`f${i}`, body, ['bob@x']), 'bob@x'), 1);
    const kept = Array.from({ length: 1_000 }, (_, i) => memory.take(`f${i + 1}:bob@x`));
    expect(kept.filter((r) => r?.delivery).length, 'bodies kept: what fits in the budget').toBe(10);
    expect(
      kept.slice(-10).every((r) => r?.delivery?.body === body),
      'the newest ones',
    ).toBe(true);
    expect(
      kept.every((r) => r?.bounces === 1),
      'every delivery still known, with its bounces',
    ).toBe(true);
  });
});
