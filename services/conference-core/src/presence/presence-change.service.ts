/**
 * One presence change (PRESENCE_CHANGES), applied exactly once: updates conference-core's offline
 * view (the change with the greatest occurredAt wins), re-evaluates the time-to-live of the
 * identity's active conferences and, when it is back, releases its queued deliveries. The
 * conference rows are locked first (in id order) so a message decided concurrently is either
 * queued before the release or decided after it with the new presence.
 */
import { Injectable } from '@nestjs/common';
import { consumers, normalizeAddress, type PresenceChangedV1 } from '@parley/contracts';
import { ConferenceStore, idleDeadlineOf } from '../conference/conference.store.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';

@Injectable()
export class PresenceChangeService {
  constructor(
    private readonly store: ConferenceStore,
    private readonly relay: OutboxRelay,
  ) {}

  async handlePresenceChange(event: PresenceChangedV1): Promise<void> {
    const address = normalizeAddress(event.network, event.address);
    await this.store.transaction(async (tx) => {
      if (!(await this.store.claim(tx, consumers.conferenceCorePresence, event.id))) return;
      const conferenceIds = await this.store.lockActiveConferencesOf(tx, event.network, address);
      if (!(await this.store.recordPresence(tx, event, address))) return; // older than the one recorded
      await this.store.bumpRosterVersions(tx, conferenceIds);
      if (event.presence !== 'offline') await this.store.releaseQueued(tx, event.network, address);
      const now = new Date();
      for (const id of conferenceIds) {
        const loaded = await this.store.loadLocked(tx, id);
        if (!loaded) continue;
        const idleDeadline = idleDeadlineOf(loaded, now, false);
        if (idleDeadline?.getTime() !== loaded.entity.idleDeadline?.getTime()) {
          await this.store.setIdleDeadline(tx, id, idleDeadline);
        }
      }
    });
    this.relay.kick();
  }
}
