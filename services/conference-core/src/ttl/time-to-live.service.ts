/**
 * Ends the conferences whose time-to-live deadline has passed, one transaction each: the row is
 * claimed with FOR UPDATE SKIP LOCKED (another replica skips it) and is no longer due once
 * committed, so each fires once.
 */
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { closeConference } from '../conference/conference-rules.js';
import { ConferenceStore, idleDeadlineOf } from '../conference/conference.store.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';

/** Most conferences one pass terminates (the next pass continues). */
const EXPIRE_BATCH = 100;

@Injectable()
export class TimeToLiveService {
  constructor(
    private readonly store: ConferenceStore,
    private readonly relay: OutboxRelay,
  ) {}

  /** Returns how many conferences ended. */
  async expireDue(isStopping: () => boolean = () => false): Promise<number> {
    let expired = 0;
    // Most passes find nothing due: one read says so, where a claim costs a transaction.
    if (!(await this.store.anyDue(new Date()))) return 0;
    for (let i = 0; i < EXPIRE_BATCH && !isStopping(); i++) {
      const outcome = await this.store.transaction(async (tx) => {
        const now = new Date();
        const id = await this.store.claimDue(tx, now);
        if (!id) return 'none';
        const loaded = (await this.store.loadLocked(tx, id))!;
        if (idleDeadlineOf(loaded, now, false) === null) {
          // Someone is active after all (a change raced the deadline): no expiry.
          await this.store.setIdleDeadline(tx, id, null);
          return 'kept';
        }
        loaded.entity.terminatedAt = now;
        loaded.entity.terminatedReason = 'ttl-expired';
        const decision = closeConference(loaded.facts, loaded.roster, 'ttl-expired');
        await this.store.record(tx, loaded, id, decision, randomUUID(), false);
        return 'expired';
      });
      if (outcome === 'none') break;
      if (outcome === 'expired') expired += 1;
    }
    if (expired > 0) this.relay.kick();
    return expired;
  }
}
