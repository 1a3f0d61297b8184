import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planFanOut, type DeliveryDraft } from './fan-out.js';

const context = {
  causeId: 'cause-1',
  conferenceId: 'team-k4q7',
  botName: 'Team (parley)',
  now: new Date('2026-11-28T12:00:00Z'),
  isQueued: () => false,
  newId: () => randomUUID(),
};
const msg = (to: string, body: string, network: 'xmpp' | 'irc' = 'xmpp'): DeliveryDraft => ({
  network,
  to,
  kind: 'message',
  body,
});

/** What each recipient receives, in order, when the fan-outs are served in order. */
function perRecipient(plan: ReturnType<typeof planFanOut>): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const f of plan.fanOuts)
    for (const r of f.recipients) seen.set(r, [...(seen.get(r) ?? []), `${f.kind}:${f.body ?? ''}`]);
  return seen;
}

function expected(drafts: DeliveryDraft[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const d of drafts) seen.set(d.to, [...(seen.get(d.to) ?? []), `${d.kind}:${d.body ?? ''}`]);
  return seen;
}

describe('planFanOut', () => {
  it('sends a relayed message to 99 recipients as one fan-out delivery', () => {
    const drafts = Array.from({ length: 99 }, (_, i) => msg(`p${i}@example.org`, '[alice (xmpp)] hi'));
    const plan = planFanOut(drafts, context);
    expect(plan.fanOuts).toHaveLength(1);
    expect(plan.fanOuts[0]!.recipients).toHaveLength(99);
    expect(plan.fanOuts[0]!.deliveryId).toBe('cause-1#0');
  });

  it('keeps networks and kinds apart', () => {
    const drafts: DeliveryDraft[] = [
      msg('a@x', 'hi'),
      msg('bob', 'hi', 'irc'),
      { network: 'xmpp', to: 'a@x', kind: 'bot-online' },
    ];
    const plan = planFanOut(drafts, context);
    expect(plan.fanOuts.map((f) => [f.network, f.kind, f.recipients])).toEqual([
      ['xmpp', 'message', ['a@x']],
      ['irc', 'message', ['bob']],
      ['xmpp', 'bot-online', ['a@x']],
    ]);
  });

  it("never reorders one recipient's deliveries", () => {
    // B's own order is y then x; merging B's x into the first x group would put it before y.
    const drafts = [msg('A', 'x'), msg('B', 'y'), msg('B', 'x'), msg('A', 'y')];
    const plan = planFanOut(drafts, context);
    expect(perRecipient(plan)).toEqual(expected(drafts));
  });

  it('keeps a repeated identical line to one recipient as two deliveries', () => {
    const drafts = [msg('A', 'same'), msg('A', 'same')];
    expect(perRecipient(planFanOut(drafts, context))).toEqual(expected(drafts));
  });

  it('keeps every order on random decisions (property)', () => {
    for (let round = 0; round < 200; round++) {
      const drafts = Array.from({ length: 1 + (round % 30) }, (_, i) =>
        msg(`r${(i * 7 + round) % 5}`, `b${(i * 3 + round) % 3}`),
      );
      const plan = planFanOut(drafts, context);
      expect(perRecipient(plan)).toEqual(expected(drafts));
      expect(plan.fanOuts.length).toBeLessThanOrEqual(drafts.length);
    }
  });

  it('splits a fan-out larger than the recipient limit', () => {
    const drafts = Array.from({ length: 5 }, (_, i) => msg(`p${i}`, 'hi'));
    const plan = planFanOut(drafts, { ...context, maxRecipients: 2 });
    expect(plan.fanOuts.map((f) => f.recipients.length)).toEqual([2, 2, 1]);
    expect(new Set(plan.fanOuts.map((f) => f.deliveryId)).size).toBe(3);
  });

  it('keeps deliveries for offline recipients apart, one each', () => {
    const drafts = [msg('online', 'hi', 'irc'), msg('away', 'hi', 'irc')];
    const plan = planFanOut(drafts, { ...context, isQueued: (d) => d.to === 'away' });
    expect(plan.fanOuts.map((f) => f.recipients)).toEqual([['online']]);
    expect(plan.queued.map((q) => [q.to, q.body])).toEqual([['away', 'hi']]);
  });
});
