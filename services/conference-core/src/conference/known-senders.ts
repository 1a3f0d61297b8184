/**
 * Who may speak in which conference, as this process last saw it: the participants (not removed) of
 * each running conference, from the roster of its last committed inbound transaction. A message
 * from one of them skips the database read that tells participants from strangers — one round trip
 * of the hot path (docs/performance.md). Only ever a shortcut: the transaction checks the sender
 * against the locked roster, and a stale entry (another replica or an owner command removed them,
 * or the conference ended) sends the batch back to be decided with the standing read afresh.
 * Strangers are never remembered, so their messages always take the budgeted path.
 */
import { normalizeAddress, type Network } from '@parley/contracts';
import type { Loaded } from './conference.store.js';
import { findParticipant } from './conference-rules.js';

/** Conferences remembered; the least recently stored is forgotten first. */
const MAX_CONFERENCES = 10_000;

export class KnownSenders {
  private readonly byConference = new Map<string, Set<string>>();

  isParticipant(conferenceId: string, network: Network, address: string): boolean {
    return this.byConference.get(conferenceId)?.has(keyOf(network, address)) ?? false;
  }

  /** The roster of a conference as a committed transaction left it. */
  remember(loaded: Loaded): void {
    const id = loaded.facts.id;
    this.byConference.delete(id);
    if (loaded.facts.state !== 'active') return;
    const speakers = loaded.roster
      .filter((p) => p.state !== 'removed')
      .map((p) => keyOf(p.network, p.address));
    this.byConference.set(id, new Set(speakers));
    if (this.byConference.size > MAX_CONFERENCES) {
      this.byConference.delete(this.byConference.keys().next().value!);
    }
  }

  forget(conferenceId: string): void {
    this.byConference.delete(conferenceId);
  }
}

/**
 * Whether a sender is a stranger to a conference: there is no such conference (`conferenceState`
 * null), it is not running, or they are not (any more) a participant (`participantState`
 * null/undefined or removed). The one rule behind ConferenceStore.standingOf and isStranger.
 */
export function isStrangerBy(
  conferenceState: string | null,
  participantState: string | null | undefined,
): boolean {
  return conferenceState !== 'active' || participantState == null || participantState === 'removed';
}

/** isStrangerBy on a loaded conference and roster. */
export function isStranger(loaded: Loaded | null, network: Network, address: string): boolean {
  return isStrangerBy(
    loaded?.facts.state ?? null,
    loaded && findParticipant(loaded.roster, network, address)?.state,
  );
}

function keyOf(network: Network, address: string): string {
  return `${network}\n${normalizeAddress(network, address)}`;
}
