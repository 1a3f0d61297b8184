import { describe, expect, it } from 'vitest';
import { botNick } from './bot-nick.js';

const IRC_NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;

describe('botNick', () => {
  it('is the conference id when it fits', () => {
    expect(botNick('team-sync-k4q7x2', 30)).toBe('team-sync-k4q7x2');
  });

  it('keeps the head and the random tail of a long id within NICKLEN', () => {
    const id = 'quarterly-planning-for-the-whole-company-k4q7x2';
    expect(botNick(id, 30)).toBe('quarterly-planning-for-k4q7x2');
    expect(botNick(id, 16)).toBe('quarterly-k4q7x2');
    expect(botNick(id, 9)).toBe('qu-k4q7x2');
    for (const length of [9, 16, 30]) expect(botNick(id, length).length).toBeLessThanOrEqual(length);
  });

  it('never starts with a digit', () => {
    expect(botNick('2026-kickoff-abc123', 30)).toBe('p2026-kickoff-abc123');
    expect(botNick('2026-kickoff-abc123', 30)).toMatch(IRC_NICK);
  });

  it('resolves collisions deterministically with numbered candidates that still fit', () => {
    const id = 'team-sync-k4q7x2';
    expect([1, 2, 10].map((n) => botNick(id, 30, n))).toEqual([
      'team-sync-k4q7x2_1',
      'team-sync-k4q7x2_2',
      'team-sync-k4q7x2_10',
    ]);
    expect(botNick(id, 16, 1)).toBe('team-sy-k4q7x2_1');
    expect(botNick(id, 16, 1).length).toBe(16);
    expect(botNick(id, 16, 1)).toBe(botNick(id, 16, 1));
  });
});
