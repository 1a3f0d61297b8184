/**
 * The time-to-live rule, pure: a conference ends when it has had no active participant (joined, not
 * paused, not offline) for its ttlSeconds. The deadline is stored with the conference (see
 * ttl.scheduler.ts), so it survives restarts and one replica fires it.
 */
import type { AggregatePresence, ConferenceState, ParticipantState } from '@parley/contracts';

/**
 * Active = joined, not paused, not offline. A participant whose presence conference-core has never
 * heard of counts as not offline: a conference is never ended (nor a message queued) on a guess.
 */
export function isActiveParticipant(
  p: { state: ParticipantState },
  presence: AggregatePresence | undefined,
): boolean {
  return p.state === 'joined' && presence !== 'offline';
}

export interface IdleDeadlineInput {
  conferenceState: ConferenceState;
  ttlSeconds: number;
  hasActiveParticipant: boolean;
  /** The deadline stored now (null: none running). */
  current: Date | null;
  now: Date;
  /** Something happened in the conference (a message, a command, an owner change): the clock restarts. */
  isActivity: boolean;
}

/** The deadline to store after a change: null while someone is active or once the conference is not active. */
export function nextIdleDeadline(input: IdleDeadlineInput): Date | null {
  if (input.conferenceState !== 'active' || input.hasActiveParticipant) return null;
  if (input.current && !input.isActivity) return input.current;
  return new Date(input.now.getTime() + input.ttlSeconds * 1_000);
}
