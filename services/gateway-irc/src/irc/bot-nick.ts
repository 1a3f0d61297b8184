/**
 * The nick of a conference bot, derived from the conference id so that it is stable across
 * restarts and guessable from the id: the id itself when it fits the server's NICKLEN, else its
 * head plus its random tail. A collision (nick in use) is resolved deterministically by trying
 * `_1`, `_2`, … in that order.
 */

/** IRC nicks may not start with a digit or a dash (RFC 2812); conference ids may start with a digit. */
function base(conferenceId: string): string {
  return /^[a-z]/i.test(conferenceId) ? conferenceId : `p${conferenceId}`;
}

/** Fits a nick into `length` characters, keeping the last 6 (a conference id's random part). */
function fit(nick: string, length: number): string {
  if (nick.length <= length) return nick;
  const tail = nick.slice(-6);
  const headLength = length - tail.length - 1;
  if (headLength < 1) return nick.slice(0, length);
  return `${nick.slice(0, headLength).replace(/-+$/, '')}-${tail}`;
}

/** Candidate `attempt` (0 = preferred) for the bot of `conferenceId` on a server allowing `nickLength`. */
export function botNick(conferenceId: string, nickLength: number, attempt = 0): string {
  if (attempt === 0) return fit(base(conferenceId), nickLength);
  const suffix = `_${attempt}`;
  return fit(base(conferenceId), nickLength - suffix.length) + suffix;
}
