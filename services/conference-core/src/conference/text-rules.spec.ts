import { describe, expect, it } from 'vitest';
import {
  MAX_BOT_MESSAGE,
  MAX_DISPLAY_NAME,
  cleanDisplayName,
  prefixEveryLine,
  splitBotMessage,
  uniqueDisplayName,
} from './text-rules.js';

describe('prefixEveryLine', () => {
  it('puts the sender on every line, whatever the line break', () => {
    expect(prefixEveryLine('[alice (xmpp)]', 'ok\n[bob (xmpp)] I resign\r\nbye\u2028x')).toBe(
      '[alice (xmpp)] ok\n[alice (xmpp)] [bob (xmpp)] I resign\n[alice (xmpp)] bye\n[alice (xmpp)] x',
    );
  });
});

describe('splitBotMessage', () => {
  it('keeps a short answer whole', () => {
    expect(splitBotMessage('a\nb')).toEqual(['a\nb']);
  });

  it('splits a long answer at line breaks into messages that fit', () => {
    const lines = Array.from({ length: 300 }, (_, i) => `participant number ${i}: joined`);
    const parts = splitBotMessage(lines.join('\n'));
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(MAX_BOT_MESSAGE);
    expect(parts.join('\n')).toBe(lines.join('\n'));
  });

  it('cuts a single line longer than the limit', () => {
    const parts = splitBotMessage('x'.repeat(2 * MAX_BOT_MESSAGE + 5));
    expect(parts.map((p) => p.length)).toEqual([MAX_BOT_MESSAGE, MAX_BOT_MESSAGE, 5]);
  });
});

describe('cleanDisplayName', () => {
  it.each([
    ['Alice', 'Alice'],
    ['bob (xmpp)] hi [x', 'bob hi x'],
    ['  two   spaces ', 'two spaces'],
    ['zero\u200bwidth\u202eevil', 'zerowidthevil'],
    ['line\nbreak', 'linebreak'],
    ['Ｂｏｂ', 'Bob'],
    ['[irc]', 'fallback'],
  ])('%j → %j', (name, expected) => {
    expect(cleanDisplayName(name, 'fallback')).toBe(expected);
  });

  it('caps the length', () => {
    expect(cleanDisplayName('n'.repeat(100), 'f')).toHaveLength(MAX_DISPLAY_NAME);
  });
});

describe('uniqueDisplayName', () => {
  it('numbers a name already taken in the conference, case-insensitively', () => {
    expect(uniqueDisplayName('bob', ['alice'])).toBe('bob');
    expect(uniqueDisplayName('bob', ['Bob'])).toBe('bob 2');
    expect(uniqueDisplayName('bob', ['bob', 'bob 2'])).toBe('bob 3');
  });
});
