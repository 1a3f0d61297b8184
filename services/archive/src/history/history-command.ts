/**
 * The bot's `/history` and `/search` rules as pure functions: what the argument text asks for, and
 * how archived events become the lines (and the few message bodies) the bot sends back.
 * No I/O here; HistoryService runs the queries these decide.
 */
import type { ArchivedEvent } from '@parley/contracts';

/** `/history` without a number, when the participant never left: the last this many messages. */
export const DEFAULT_HISTORY_COUNT = 20;
/** Most messages one `/history` answer shows; more would flood an IM window. */
export const MAX_HISTORY_LINES = 100;
/** Longest window `/history <n> <unit>` looks back. */
export const MAX_HISTORY_WINDOW_MS = 30 * 24 * 3_600_000;
/** Most matches one `/search` answer shows. */
export const MAX_SEARCH_LINES = 20;
/** A history line shows at most this much of a message body (the owner's export has it all). */
export const MAX_LINE_BODY_CHARS = 300;
/** One bot message carries at most this many characters of lines; longer answers are split. */
export const MAX_MESSAGE_CHARS = 3_000;

export type HistoryRequest =
  /** No argument: since the participant last left, else the last DEFAULT_HISTORY_COUNT. */
  | { kind: 'default'; note?: undefined }
  | { kind: 'last'; count: number; note?: string }
  | { kind: 'window'; ms: number; label: string; note?: string }
  | { kind: 'invalid'; message: string; note?: undefined };

const UNITS: Array<{ pattern: RegExp; ms: number; singular: string; plural: string }> = [
  { pattern: /^(m|mins?|minutes?)$/, ms: 60_000, singular: 'minute', plural: 'minutes' },
  { pattern: /^(h|hrs?|hours?)$/, ms: 3_600_000, singular: 'hour', plural: 'hours' },
  { pattern: /^(d|days?)$/, ms: 86_400_000, singular: 'day', plural: 'days' },
  { pattern: /^(w|wks?|weeks?)$/, ms: 7 * 86_400_000, singular: 'week', plural: 'weeks' },
];

const USAGE =
  'try /history, /history 20, /history 30 minutes, /history 5 hours, /history 2 days or /history 1 week';

function unitLabel(amount: number, unit: (typeof UNITS)[number]): string {
  return `${amount} ${amount === 1 ? unit.singular : unit.plural}`;
}

/** Reads the text after `/history`: empty, a count (`20`), or an amount and a unit (`5 hours`, `5h`). */
export function parseHistoryArgs(args: string): HistoryRequest {
  const text = args.trim().toLowerCase();
  if (text === '') return { kind: 'default' };
  const match = /^(\d{1,9})\s*([a-z]*)$/.exec(text);
  if (!match) return { kind: 'invalid', message: `"${args.trim()}" is not a history length; ${USAGE}` };
  const amount = Number(match[1]);
  const unitText = match[2]!;
  if (amount === 0) return { kind: 'invalid', message: `ask for at least 1; ${USAGE}` };
  if (unitText === '') {
    if (amount > MAX_HISTORY_LINES) {
      return {
        kind: 'last',
        count: MAX_HISTORY_LINES,
        note: `(showing the last ${MAX_HISTORY_LINES} messages, the most /history shows at once)`,
      };
    }
    return { kind: 'last', count: amount };
  }
  const unit = UNITS.find((u) => u.pattern.test(unitText));
  if (!unit) return { kind: 'invalid', message: `"${match[2]}" is not a unit; ${USAGE}` };
  const ms = amount * unit.ms;
  if (ms > MAX_HISTORY_WINDOW_MS) {
    return {
      kind: 'window',
      ms: MAX_HISTORY_WINDOW_MS,
      label: '30 days',
      note: `(history reaches back at most 30 days; showing the last 30 days instead of ${unitLabel(amount, unit)})`,
    };
  }
  return { kind: 'window', ms, label: unitLabel(amount, unit) };
}

/** UTC, short ISO-like: `2026-11-21 23:44Z`. */
export function formatTime(occurredAt: string): string {
  const iso = new Date(occurredAt).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`;
}

const NOTICE_VERBS: Record<string, string> = {
  'participant-invited': 'was invited',
  'participant-authorized': 'accepted the bot',
  'participant-joined': 'joined',
  'participant-left': 'left',
  'participant-paused': 'paused',
  'participant-resumed': 'resumed',
  'participant-removed': 'was removed',
};

/** One history line: time, sender (display name and network) and what happened. */
export function formatHistoryLine(event: ArchivedEvent): string {
  const time = formatTime(event.occurredAt);
  switch (event.type) {
    case 'message-accepted': {
      const body =
        event.body.length > MAX_LINE_BODY_CHARS
          ? `${event.body.slice(0, MAX_LINE_BODY_CHARS - 1)}…`
          : event.body;
      return `${time} ${event.sender.displayName} (${event.sender.network}): ${body}`;
    }
    case 'conference-started':
      return `${time} conference "${event.name}" started`;
    case 'conference-terminated':
      return `${time} conference ended (${event.reason === 'closed' ? 'closed' : 'time-to-live expired'})`;
    default:
      return `${time} ${event.participant.displayName} (${event.participant.network}) ${NOTICE_VERBS[event.type]}`;
  }
}

/** Packs lines into as few bot messages as fit MAX_MESSAGE_CHARS each (a single long line stays whole). */
export function packMessages(lines: string[], maxChars = MAX_MESSAGE_CHARS): string[] {
  const messages: string[] = [];
  let current = '';
  for (const line of lines) {
    if (current !== '' && current.length + 1 + line.length > maxChars) {
      messages.push(current);
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') messages.push(current);
  return messages;
}

/** What the bot answers for a history or search result: optional note first, then one line per event. */
export function historyAnswer(
  events: ArchivedEvent[],
  options: { note?: string; empty: string },
): { messages: string[]; lines: string[] } {
  const lines = events.map(formatHistoryLine);
  if (lines.length === 0) lines.push(options.empty);
  if (options.note) lines.unshift(options.note);
  return { messages: packMessages(lines), lines };
}

/** The note for a capped answer, e.g. `(showing the last 100 of 340 messages of the last 2 days)`. */
export function cappedNote(shown: number, total: number, what: string): string | undefined {
  return total > shown ? `(showing the last ${shown} of ${total} ${what})` : undefined;
}
