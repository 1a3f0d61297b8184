import { describe, expect, it } from 'vitest';
import type { ArchivedEvent } from '@parley/contracts';
import {
  MAX_HISTORY_LINES,
  MAX_HISTORY_WINDOW_MS,
  cappedNote,
  formatHistoryLine,
  formatTime,
  historyAnswer,
  packMessages,
  parseHistoryArgs,
} from './history-command.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('parseHistoryArgs', () => {
  it.each([
    ['', { kind: 'default' }],
    ['   ', { kind: 'default' }],
    ['20', { kind: 'last', count: 20 }],
    ['1', { kind: 'last', count: 1 }],
    ['30 minutes', { kind: 'window', ms: 30 * 60_000, label: '30 minutes' }],
    ['1 minute', { kind: 'window', ms: 60_000, label: '1 minute' }],
    ['5 hours', { kind: 'window', ms: 5 * HOUR, label: '5 hours' }],
    ['1 hour', { kind: 'window', ms: HOUR, label: '1 hour' }],
    ['1 hours', { kind: 'window', ms: HOUR, label: '1 hour' }],
    ['5h', { kind: 'window', ms: 5 * HOUR, label: '5 hours' }],
    ['2 days', { kind: 'window', ms: 2 * DAY, label: '2 days' }],
    ['1 day', { kind: 'window', ms: DAY, label: '1 day' }],
    ['1 week', { kind: 'window', ms: 7 * DAY, label: '1 week' }],
    ['2 Weeks', { kind: 'window', ms: 14 * DAY, label: '2 weeks' }],
    ['10 min', { kind: 'window', ms: 10 * 60_000, label: '10 minutes' }],
  ])('reads %j', (args, expected) => {
    expect(parseHistoryArgs(args)).toEqual(expected);
  });

  it('caps a count at the most one answer shows, with a note', () => {
    const request = parseHistoryArgs('5000');
    expect(request).toMatchObject({ kind: 'last', count: MAX_HISTORY_LINES });
    expect(request.note).toMatch(/the last 100 messages/);
  });

  it('caps a window at 30 days, with a note naming what was asked', () => {
    const request = parseHistoryArgs('52 weeks');
    expect(request).toMatchObject({ kind: 'window', ms: MAX_HISTORY_WINDOW_MS, label: '30 days' });
    expect(request.note).toMatch(/instead of 52 weeks/);
  });

  it.each(['abc', '5 fortnights', '-3', '0', '0 hours', '2.5 hours', 'hours 5', '5 hours ago'])(
    'explains that %j is not a history length',
    (args) => {
      const request = parseHistoryArgs(args);
      expect(request.kind).toBe('invalid');
      expect(request.kind === 'invalid' && request.message).toMatch(/\/history 5 hours/);
    },
  );
});

const alice = { network: 'xmpp' as const, address: 'alice@example.org', displayName: 'alice' };

function message(seq: number, body: string, occurredAt = '2026-11-21T09:05:59.999Z'): ArchivedEvent {
  return {
    id: `m${seq}`,
    occurredAt,
    conferenceId: 'team',
    seq,
    type: 'message-accepted',
    sender: alice,
    body,
  };
}

describe('history lines', () => {
  it('shows the time in UTC as a short ISO-like form', () => {
    expect(formatTime('2026-11-21T23:44:10+02:00')).toBe('2026-11-21 21:44Z');
  });

  it('writes a message as time, sender with network, and body', () => {
    expect(formatHistoryLine(message(1, 'hello'))).toBe('2026-11-21 09:05Z alice (xmpp): hello');
  });

  it('shortens a long body so one line stays readable', () => {
    const line = formatHistoryLine(message(1, 'y'.repeat(1_000)));
    expect(line).toBe(`2026-11-21 09:05Z alice (xmpp): ${'y'.repeat(299)}…`);
  });

  it('writes notices with the participant and what happened', () => {
    const joined: ArchivedEvent = {
      id: 'j',
      occurredAt: '2026-11-21T09:00:00Z',
      conferenceId: 'team',
      seq: 2,
      type: 'participant-joined',
      participant: { network: 'irc', address: 'bob@irc.example.org', displayName: 'bob' },
    };
    expect(formatHistoryLine(joined)).toBe('2026-11-21 09:00Z bob (irc) joined');
  });

  it('puts the note first and says so when there is nothing to show', () => {
    expect(historyAnswer([], { note: '(note)', empty: 'no messages' }).lines).toEqual([
      '(note)',
      'no messages',
    ]);
    expect(historyAnswer([message(1, 'a'), message(2, 'b')], { empty: 'x' }).messages).toEqual([
      '2026-11-21 09:05Z alice (xmpp): a\n2026-11-21 09:05Z alice (xmpp): b',
    ]);
  });

  it('splits long answers into a few messages without cutting a line', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
    const messages = packMessages(lines, 100);
    expect(messages.every((m) => m.length <= 100)).toBe(true);
    expect(messages.join('\n').split('\n')).toEqual(lines);
    expect(messages).toHaveLength(5);
  });

  it('notes a capped answer only when something was left out', () => {
    expect(cappedNote(100, 340, 'messages of the last 2 days')).toBe(
      '(showing the last 100 of 340 messages of the last 2 days)',
    );
    expect(cappedNote(5, 5, 'messages')).toBeUndefined();
  });
});
