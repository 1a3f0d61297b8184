/**
 * The text limits and the cleaning of what participants send, in one place, without I/O.
 *
 * - A relayed message is at most MAX_RELAYED_TEXT characters: after the prefix Parley adds it must
 *   still fit one XMPP message and, on IRC, a handful of lines that a flood-controlled server
 *   passes in seconds (≈ 400 bytes a line: 1,000 ASCII characters are 3 lines). Longer messages
 *   are refused whole with one clear line; nothing is half-sent.
 * - Bot answers longer than MAX_BOT_MESSAGE (a long /list or /history) are split at line breaks
 *   into messages that fit.
 * - Every line of a relayed message carries its sender's prefix, so a newline cannot make a line
 *   read as someone else's.
 * - Display names carry no brackets, parentheses or network tags that could forge a prefix, no
 *   control or invisible characters, and are unique within a conference.
 */

/** Most characters of a relayed message. */
export const MAX_RELAYED_TEXT = 1_000;
/** Most lines of a relayed message (each becomes at least one IRC line, with its prefix). */
export const MAX_RELAYED_LINES = 10;
/** Most characters of one bot message; longer answers are split. */
export const MAX_BOT_MESSAGE = 1_500;
/** Most characters of a display name. */
export const MAX_DISPLAY_NAME = 40;

const LINE_BREAK = /\r\n|[\n\r\u0085\u2028\u2029]/u;

/** Whether a text is over the relay limits (characters or lines). */
export function isTooLong(text: string): boolean {
  return text.length > MAX_RELAYED_TEXT || text.split(LINE_BREAK).length > MAX_RELAYED_LINES;
}

/** The one line a sender gets for a message over the limits; nothing of it was relayed. */
export function tooLongReply(text: string): string {
  const lines = text.split(LINE_BREAK).length;
  const what =
    text.length > MAX_RELAYED_TEXT
      ? `${text.length} characters, the limit is ${MAX_RELAYED_TEXT}`
      : `${lines} lines, the limit is ${MAX_RELAYED_LINES}`;
  return `Too long: ${what}. Your message was not relayed; please split it.`;
}

/** `[alice (xmpp)] text`, on every line of the text. */
export function prefixEveryLine(prefix: string, text: string): string {
  return text
    .split(LINE_BREAK)
    .map((line) => `${prefix} ${line}`)
    .join('\n');
}

/** Splits a bot answer into messages of at most `max` characters, at line breaks where possible. */
export function splitBotMessage(text: string, max = MAX_BOT_MESSAGE): string[] {
  if (text.length <= max) return [text];
  const messages: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    for (let piece = line; ;) {
      const room = current ? max - current.length - 1 : max;
      if (piece.length <= room) {
        current = current ? `${current}\n${piece}` : piece;
        break;
      }
      if (current) {
        messages.push(current);
        current = '';
        continue;
      }
      messages.push(piece.slice(0, max));
      piece = piece.slice(max);
      if (piece === '') break;
    }
  }
  if (current) messages.push(current);
  return messages;
}

// Control, format (zero-width, bidi overrides), private-use and unassigned characters, and the
// brackets a prefix is made of.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/gu;
const PREFIX_PUNCTUATION = /[[\](){}<>⟦⟧［］（）]/gu;
const NETWORK_TAG = /\b(?:xmpp|irc|jabber|matrix|parley)\b/giu;

/**
 * A display name fit to stand in a prefix: no invisible characters, no brackets, no network tags,
 * single spaces, at most MAX_DISPLAY_NAME characters; `fallback` when nothing is left.
 */
export function cleanDisplayName(name: string, fallback: string): string {
  const cleaned = name
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .replace(PREFIX_PUNCTUATION, ' ')
    .replace(NETWORK_TAG, ' ')
    .replace(/\s+/gu, ' ')
    .trim()
    .slice(0, MAX_DISPLAY_NAME)
    .trim();
  if (cleaned) return cleaned;
  return fallback === name ? 'participant' : cleanDisplayName(fallback, fallback);
}

/** `name`, or `name 2`, `name 3`, … — the first not taken (case-insensitive) by `taken`. */
export function uniqueDisplayName(name: string, taken: Iterable<string>): string {
  const used = new Set([...taken].map((n) => n.toLowerCase()));
  if (!used.has(name.toLowerCase())) return name;
  for (let n = 2; ; n++) {
    const candidate = `${name.slice(0, MAX_DISPLAY_NAME - String(n).length - 1)} ${n}`;
    if (!used.has(candidate.toLowerCase())) return candidate;
  }
}
