import { describe, expect, it } from 'vitest';
import { IRC_LINE_BYTES, privmsgTextBytes, splitForIrc, stripFormatting } from './irc-text.js';

const bytes = (s: string) => Buffer.byteLength(s);
/** True when the text survives a UTF-8 round trip (no half character at either end). */
const wholeUtf8 = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s && !s.includes('\ufffd');

describe('stripFormatting', () => {
  it.each([
    ['\u0002bold\u0002 and \u001ditalic\u001d', 'bold and italic'],
    ['\u00034red\u0003 \u00034,12red on blue\u0003', 'red red on blue'],
    ['\u000312,4 \u00039digits 5\u0003', ' digits 5'],
    ['\u0004ff0000hex\u0004 \u0004FF0000,00FF00both', 'hex both'],
    [
      '\u001funder\u001f \u001estrike\u001e \u0011mono\u0011 \u0016rev\u0016\u000f end',
      'under strike mono rev end',
    ],
    ['no codes, 100% plain', 'no codes, 100% plain'],
  ])('%j → %j', (input, expected) => {
    expect(stripFormatting(input)).toBe(expected);
  });
});

describe('privmsgTextBytes', () => {
  it('leaves room for the longest prefix the server may put before the text', () => {
    const budget = privmsgTextBytes('team-sync-k4q7x2', '~parley', 'alice');
    const worst = `:team-sync-k4q7x2!~parley@${'h'.repeat(63)} PRIVMSG alice :${'x'.repeat(budget)}\r\n`;
    expect(bytes(worst)).toBe(IRC_LINE_BYTES);
  });
});

describe('splitForIrc', () => {
  it('keeps a short line as it is and drops blank lines', () => {
    expect(splitForIrc('hello\n\n  \nworld', 100)).toEqual(['hello', 'world']);
  });

  it('breaks at the last space of a chunk', () => {
    expect(splitForIrc('aaaa bbbb cccc dddd', 10)).toEqual(['aaaa bbbb', 'cccc dddd']);
  });

  it('cuts a word with no space between characters, never inside one', () => {
    const text = 'é'.repeat(11); // 2 bytes each
    const lines = splitForIrc(text, 5);
    expect(lines).toEqual(['éé', 'éé', 'éé', 'éé', 'éé', 'é']);
  });

  it('splits 2,000 mixed characters into whole-UTF-8 lines within the budget, losing nothing', () => {
    const words = ['naïve', 'café', '日本語の', 'テキスト', 'emoji👍🏽', 'Ελληνικά', 'plain', '🇫🇷flag'];
    let text = '';
    for (let i = 0; text.length < 2_000; i++) text += `${words[i % words.length]} `;
    text = text.slice(0, 2_000);
    const lines = splitForIrc(text, 300);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      expect(bytes(line)).toBeLessThanOrEqual(300);
      expect(wholeUtf8(line)).toBe(true);
    }
    expect(lines.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
    // Graphemes stay whole: the skin-tone thumb and the flag are never split.
    expect(lines.join('\n')).not.toMatch(/👍\n|\n🏽|🇫\n🇷/u);
  });

  it('cuts an absurdly long grapheme between code points', () => {
    const zalgo = `a${'\u0301'.repeat(10)}`; // 1 + 10×2 bytes, one grapheme
    const lines = splitForIrc(zalgo, 8);
    expect(lines.join('')).toBe(zalgo);
    for (const line of lines) expect(bytes(line)).toBeLessThanOrEqual(8);
  });
});
