/**
 * Pooled mode's routing rules (one bot nick serving many conferences): which conference a
 * participant's private message is for, and the `/conf` command that chooses it. Pure functions.
 */

/** `/conf` (list) or `/conf <id>` (choose), with the bot language's prefixes; null for anything else. */
export function parseConfCommand(text: string): { conferenceId?: string } | null {
  const match = /^(?:\/|--|—|–)conf(?:\s+(\S+))?\s*$/i.exec(text.trim());
  if (!match) return null;
  return match[1] ? { conferenceId: match[1].toLowerCase() } : {};
}

export type PoolRoute =
  | { kind: 'route'; conferenceId: string }
  /** In no active conference at all. */
  | { kind: 'none' }
  /** In several, none chosen: ask. */
  | { kind: 'choose' };

/**
 * The participant's choice (`/conf`) while it is still one of their conferences, else the one
 * whose invitation reached them last, else their only one.
 */
export function choosePoolConference(input: {
  chosen: string | undefined;
  lastInvitedTo: string | undefined;
  conferences: readonly string[];
}): PoolRoute {
  const { chosen, lastInvitedTo, conferences } = input;
  if (chosen && conferences.includes(chosen)) return { kind: 'route', conferenceId: chosen };
  if (lastInvitedTo && conferences.includes(lastInvitedTo))
    return { kind: 'route', conferenceId: lastInvitedTo };
  if (conferences.length === 1) return { kind: 'route', conferenceId: conferences[0]! };
  return conferences.length === 0 ? { kind: 'none' } : { kind: 'choose' };
}

/** Every line a pooled bot sends says which conference it is about. */
export function tagLines(conferenceId: string, body: string): string {
  return body
    .split('\n')
    .map((line) => (line.trim() === '' ? line : `[${conferenceId}] ${line}`))
    .join('\n');
}

/** The pool bot's nick candidate `attempt` within `nickLength` (`_1`, `_2`, … on collisions). */
export function poolNick(nick: string, attempt: number, nickLength: number): string {
  if (attempt === 0) return nick.slice(0, nickLength);
  const suffix = `_${attempt}`;
  return nick.slice(0, nickLength - suffix.length) + suffix;
}
