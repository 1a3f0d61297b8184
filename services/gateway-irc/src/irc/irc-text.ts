/**
 * Pure text rules of the IRC side: formatting codes stripped on the way in, and long messages split
 * on the way out into lines that fit IRC's 512-byte line limit without breaking a UTF-8 sequence
 * (nor a grapheme, so an emoji with modifiers stays whole).
 */

/** RFC 1459 / 2812: a line is at most 512 bytes, CR LF included. */
export const IRC_LINE_BYTES = 512;
/** The longest host name a server may show in our prefix (RFC 1035); we cannot know the real one. */
const MAX_HOST = 63;

// mIRC colours (\x03 fg[,bg]), hex colours (\x04 rrggbb[,rrggbb]), then bold \x02, monospace \x11,
// reverse \x16, italic \x1d, strikethrough \x1e, underline \x1f, reset \x0f. The colour digits go
// with their code, so they must be matched before the control characters alone are removed.
const FORMATTING =
  // eslint-disable-next-line no-control-regex -- formatting codes are control characters
  /\u0003(?:\d{1,2}(?:,\d{1,2})?)?|\u0004(?:[0-9a-f]{6}(?:,[0-9a-f]{6})?)?|[\u0002\u000f\u0011\u0016\u001d\u001e\u001f]/gi;

/** Removes IRC formatting (colours, bold, italic, …) and keeps the text. */
export function stripFormatting(text: string): string {
  return text.replace(FORMATTING, '');
}

/**
 * Bytes left for the text of `PRIVMSG target :text` as the server relays it to the recipient:
 * `:nick!user@host PRIVMSG target :` + text + CR LF ≤ 512. The host is unknown, so the longest.
 */
export function privmsgTextBytes(nick: string, user: string, target: string): number {
  const prefix = `:${nick}!${user}@${'h'.repeat(MAX_HOST)} PRIVMSG ${target} :`;
  return IRC_LINE_BYTES - 2 - Buffer.byteLength(prefix);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Splits text into IRC lines of at most `maxBytes` UTF-8 bytes each: at line feeds first (IRC
 * cannot carry one), then at the last space of a chunk when there is one in its second half, else
 * between graphemes. Blank lines are dropped (IRC has no empty PRIVMSG).
 */
export function splitForIrc(text: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new Error(`cannot split into ${maxBytes}-byte lines`);
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let chunk: string[] = [];
    let chunkBytes = 0;
    let lastSpace = -1; // index in chunk of the last space
    const flush = (upTo = chunk.length) => {
      const line = chunk.slice(0, upTo).join('').trimEnd();
      if (line.trim() !== '') lines.push(line);
      chunk = chunk.slice(upTo);
      // A space we broke at starts the rest: drop it, the line break stands for it.
      while (chunk.length > 0 && /^\s+$/.test(chunk[0]!)) chunk.shift();
      chunkBytes = chunk.reduce((sum, g) => sum + Buffer.byteLength(g), 0);
      lastSpace = chunk.findLastIndex((g) => /^\s+$/.test(g));
    };
    for (const { segment } of graphemes.segment(paragraph)) {
      for (const piece of fitGrapheme(segment, maxBytes)) {
        const bytes = Buffer.byteLength(piece);
        if (chunkBytes + bytes > maxBytes) {
          flush(lastSpace > chunk.length / 2 ? lastSpace : chunk.length);
          if (chunkBytes + bytes > maxBytes) flush();
        }
        chunk.push(piece);
        chunkBytes += bytes;
        if (/^\s+$/.test(piece)) lastSpace = chunk.length - 1;
      }
    }
    flush();
  }
  return lines;
}

/** A grapheme longer than a whole line (absurd combining sequences) is cut between code points. */
function fitGrapheme(segment: string, maxBytes: number): string[] {
  if (Buffer.byteLength(segment) <= maxBytes) return [segment];
  const pieces: string[] = [];
  let piece = '';
  for (const codePoint of segment) {
    if (Buffer.byteLength(piece + codePoint) > maxBytes) {
      pieces.push(piece);
      piece = '';
    }
    piece += codePoint;
  }
  if (piece) pieces.push(piece);
  return pieces;
}
