/**
 * The highest conference-event `seq` known to be taken, per conference, so that conference-core
 * never numbers an event with a seq a published event already had (issue 14). Production runs no
 * synchronous PostgreSQL replica: a failover can lose a committed decision whose events the outbox
 * relay had already published to CONF_EVENTS, leaving `conference.last_seq` behind them
 * (docs/reliability.md, "Sequence reuse after a failover that lost a commit").
 * - What this process numbered and committed is remembered (ConferenceStore calls `remember` after
 *   the commit). Bounded like the roster cache: the conference numbered least recently goes first.
 * - A conference it has nothing for (after a start, or forgotten) costs one look-up of the last
 *   message on its CONF_EVENTS subject before its first numbering; then it is remembered, so the
 *   hot path (a message in a running conference) never asks NATS (docs/performance.md).
 */
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DependencyUnavailable, JetStreamBus } from '@parley/bus';
import { streams, subjects } from '@parley/contracts';
import { logger } from '@parley/observability';
import { BoundedMap } from '@parley/runtime';

/** Conferences remembered; at ~100 bytes an entry, about 10 MB. */
export const MAX_CONFERENCES = 100_000;

/**
 * Only the `seq` of a stored event is read: an event type this version does not know (a newer
 * replica's) must not stop the numbering.
 */
const storedSeqSchema = z.object({ seq: z.number().int().nonnegative() });

@Injectable()
export class SeqFloor {
  private readonly byConference = new BoundedMap<string, number>(MAX_CONFERENCES);

  constructor(private readonly bus: JetStreamBus) {}

  /**
   * The seq a conference's next event follows, given its locked row's `last_seq`: that, unless a
   * higher seq is known taken — then the database went back in time (a lost commit) and numbering
   * continues after the taken one. Call it with the conference row locked, so no other process
   * publishes an event of the conference the look-up could miss.
   * Throws when CONF_EVENTS cannot be asked: numbering without knowing could reuse a seq.
   */
  async continueAfter(conferenceId: string, lastSeq: number): Promise<number> {
    let taken = this.byConference.get(conferenceId);
    const source = taken === undefined ? 'stream' : 'memory';
    if (taken === undefined) {
      taken = await this.lastPublished(conferenceId);
      this.remember(conferenceId, Math.max(taken, lastSeq));
    }
    if (taken <= lastSeq) return lastSeq;
    logger().warn(
      { conferenceId, lastSeq, publishedSeq: taken, source },
      'conference.last_seq is behind a seq already taken (a commit was lost): numbering continues after it',
    );
    return taken;
  }

  /** `seq` of `conferenceId` is taken (committed, or seen published). */
  remember(conferenceId: string, seq: number): void {
    this.byConference.set(conferenceId, Math.max(seq, this.byConference.get(conferenceId) ?? 0));
  }

  /**
   * The seq of the last event on the conference's CONF_EVENTS subject; 0 when there is none (nats.js
   * answers the server's "no message found" with null). NATS not answering is an outage the caller
   * waits out (DependencyUnavailable: an inbound message is retried, not dead-lettered).
   */
  private async lastPublished(conferenceId: string): Promise<number> {
    const subject = subjects.confEvents(conferenceId);
    const stored = await this.bus.jsm.streams
      .getMessage(streams.confEvents().name, { last_by_subj: subject })
      .catch((error: unknown) => {
        throw new DependencyUnavailable(
          `the last event on ${subject} could not be looked up: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      });
    if (!stored) return 0;
    const parsed = storedSeqSchema.safeParse(stored.json());
    // Not a zod error: the inbound message being decided is not what is wrong.
    if (!parsed.success) {
      throw new Error(`the last event on ${subject} (stream seq ${stored.seq}) has no seq`);
    }
    return parsed.data.seq;
  }
}
