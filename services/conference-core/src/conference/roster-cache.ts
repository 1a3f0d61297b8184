/**
 * Each running conference's roster as this process's last committed inbound transaction left it:
 * the participants with their rows and conference-core's presence view of them, and the
 * conference's `roster_version` they belong to. Two round trips' worth of the hot path rest on it
 * (docs/performance.md):
 * - a message from one of its participants skips the database read that tells participants from
 *   strangers. Only ever a shortcut: the transaction checks the sender against the locked roster,
 *   and a stale entry (another replica or an owner command removed them, or the conference ended)
 *   sends the batch back to be decided with the standing read afresh. Strangers are never
 *   remembered, so their messages always take the budgeted path;
 * - the next transaction does not read the roster again when the locked conference row still has
 *   that version: every change of a participant row or of their presence bumps it
 *   (ConferenceStore.record, deleteDeparted, bumpRosterVersions), so an equal version is the
 *   same roster. At 100 participants the roster read was the largest part of a message's CPU.
 * An entry is taken out for a transaction (whose decisions change it in place) and put back only
 * once that committed, so a failed transaction never leaves a half-changed roster behind.
 */
import { normalizeAddress, type Network } from '@parley/contracts';
import type { Loaded } from './conference.store.js';
import { findParticipant } from './conference-rules.js';

/** A committed roster: what `Loaded` holds besides the conference row itself. */
export type CachedRoster = Pick<Loaded, 'roster' | 'rows' | 'presence'> & {
  /** The conference's `roster_version` this roster is. */
  version: number;
  /** Who may speak: `network\naddress` of every participant not removed. */
  speakers: Set<string>;
};

/** Participants kept in all; the least recently stored conference is forgotten first. */
const MAX_PARTICIPANTS = 200_000;

export class RosterCache {
  private readonly byConference = new Map<string, CachedRoster>();
  private participants = 0;

  isParticipant(conferenceId: string, network: Network, address: string): boolean {
    return this.byConference.get(conferenceId)?.speakers.has(keyOf(network, address)) ?? false;
  }

  /** The conference's roster for a transaction, out of the cache until remember() puts one back. */
  take(conferenceId: string): CachedRoster | undefined {
    const entry = this.byConference.get(conferenceId);
    if (entry) this.forget(conferenceId);
    return entry;
  }

  /** The roster of a running conference as a committed transaction left it. */
  remember(loaded: Loaded): void {
    const id = loaded.facts.id;
    this.forget(id);
    if (loaded.facts.state !== 'active') return;
    const speakers = new Set(
      loaded.roster.filter((p) => p.state !== 'removed').map((p) => keyOf(p.network, p.address)),
    );
    const { roster, rows, presence } = loaded;
    sortRoster(roster, rows); // as a fresh read orders it: a decision appends whom it invites
    this.byConference.set(id, { roster, rows, presence, speakers, version: loaded.entity.rosterVersion });
    this.participants += roster.length;
    for (const oldest of this.byConference.keys()) {
      if (this.participants <= MAX_PARTICIPANTS || oldest === id) break;
      this.forget(oldest);
    }
  }

  private forget(conferenceId: string): void {
    const entry = this.byConference.get(conferenceId);
    if (!entry) return;
    this.byConference.delete(conferenceId);
    this.participants -= entry.roster.length;
  }
}

/**
 * Puts a roster in its one order, by invitation time, then address (code points): the order of a
 * fresh read and of a remembered roster alike, whatever the database's collation.
 */
export function sortRoster(roster: Loaded['roster'], rows: Loaded['rows']): void {
  const invited = (p: Loaded['roster'][number]) => rows.get(p)?.invitedAt.getTime() ?? 0;
  roster.sort(
    (a, b) => invited(a) - invited(b) || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0),
  );
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
