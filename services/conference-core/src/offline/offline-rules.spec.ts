import { describe, expect, it } from 'vitest';
import { droppedNote, overflow, parseQueueNetworks, shouldQueue, shouldWithhold } from './offline-rules.js';

describe('offline delivery rules', () => {
  const irc = parseQueueNetworks(' IRC, ');

  it('parses the configured networks and refuses unknown ones', () => {
    expect([...irc]).toEqual(['irc']);
    expect([...parseQueueNetworks('')]).toEqual([]);
    expect(() => parseQueueNetworks('irc,icq')).toThrow();
  });

  it.each([
    [{ network: 'irc', kind: 'message' }, 'offline', true],
    [{ network: 'irc', kind: 'message' }, 'away', false],
    [{ network: 'irc', kind: 'message' }, undefined, false],
    [{ network: 'irc', kind: 'bot-offline' }, 'offline', false],
    [{ network: 'xmpp', kind: 'message' }, 'offline', false],
  ] as const)('queues %o when %s: %s', (delivery, presence, expected) => {
    expect(shouldQueue(delivery, presence, irc)).toBe(expected);
  });

  it('drops only what exceeds the cap', () => {
    expect(overflow(3, 5)).toBe(0);
    expect(overflow(5, 5)).toBe(0);
    expect(overflow(7, 5)).toBe(2);
  });

  it('says how many were dropped', () => {
    expect(droppedNote(1, 3)).toBe(
      'While you were away, 1 older message was dropped (only the last 3 are kept). Here are the rest:',
    );
    expect(droppedNote(4, 3)).toMatch(/^While you were away, 4 older messages were dropped/);
  });
});

describe('shouldWithhold', () => {
  const irc = new Set(['irc'] as const);
  it('withholds chat messages to an IRC nick known to be offline when IRC proves nobody', () => {
    expect(shouldWithhold({ network: 'irc', kind: 'message' }, 'offline', irc)).toBe(true);
    expect(shouldWithhold({ network: 'irc', kind: 'message' }, 'online', irc)).toBe(false);
    expect(shouldWithhold({ network: 'irc', kind: 'message' }, undefined, irc)).toBe(false);
    expect(shouldWithhold({ network: 'irc', kind: 'bot-online' }, 'offline', irc)).toBe(false);
    expect(shouldWithhold({ network: 'xmpp', kind: 'message' }, 'offline', irc)).toBe(false);
    expect(shouldWithhold({ network: 'irc', kind: 'message' }, 'offline', new Set())).toBe(false);
  });
});
