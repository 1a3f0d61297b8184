/**
 * Reads one conference's live feed from the bus: its CONF_EVENTS facts through an ordered
 * (ephemeral, server-side filtered) consumer on the conference's own subject, and the presence
 * changes of its participants through a second ordered consumer on PRESENCE_CHANGES.
 *
 * Resume: facts carry the conference's gap-free `seq`; after `Last-Event-ID: n` the consumer starts
 * at the beginning of the conference's subject and every fact with seq ≤ n is skipped, so a
 * reconnect gets exactly the facts after n, once each, in order. JetStream filters by subject on the
 * server, so only this conference's facts cross the wire; the cost of a resume grows with the
 * conference's facts still in the stream (30 days). A later step for long conferences: start at the
 * archived `occurredAt` of fact n (`opt_start_time`, minus a clock margin) instead of the beginning.
 */
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { JetStreamBus } from '@parley/bus';
import {
  conferenceEventV1Schema,
  streams,
  subjects,
  presenceChangedV1Schema,
  type ConferenceEventV1,
  type Identity,
} from '@parley/contracts';
import { logger } from '@parley/observability';
import type { PresenceFeedEvent } from './live-feed.schemas.js';

export interface FeedSink {
  /** Sends one event; resolves when the client can take more (backpressure). */
  fact(event: ConferenceEventV1): Promise<void>;
  presence(event: PresenceFeedEvent): Promise<void>;
}

function jsonOf(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}

const identityKey = (network: string, address: string) => `${network}\u0000${address.toLowerCase()}`;

export class ConferenceFeed {
  private readonly iterators: ConsumerMessages[] = [];
  private readonly watched = new Set<string>();
  private stopped = false;

  constructor(
    private readonly bus: JetStreamBus,
    private readonly conferenceId: string,
    /** Facts with seq ≤ this are skipped; undefined: only facts published from now on. */
    private readonly after: number | undefined,
    participants: Identity[],
  ) {
    for (const p of participants) this.watched.add(identityKey(p.network, p.address));
  }

  private facts?: ConsumerMessages;
  private presences?: ConsumerMessages;

  /** Creates the consumers (before the answer starts, so a failure is still a problem answer). */
  async open(): Promise<void> {
    const facts = await this.bus.js.consumers.get(streams.confEvents().name, {
      filter_subjects: subjects.confEvents(this.conferenceId),
      deliver_policy: this.after === undefined ? DeliverPolicy.New : DeliverPolicy.All,
    });
    this.facts = await facts.consume({ max_messages: 256 });
    this.iterators.push(this.facts);
    const presences = await this.bus.js.consumers.get(streams.presenceChanges().name, {
      filter_subjects: subjects.presenceChangedAll(),
      deliver_policy: DeliverPolicy.New,
    });
    this.presences = await presences.consume({ max_messages: 256 });
    this.iterators.push(this.presences);
  }

  /** Runs until the client goes away (`stop()`) or the bus connection ends; resolves then. */
  async run(sink: FeedSink): Promise<void> {
    await Promise.all([this.runFacts(sink), this.runPresence(sink)]);
  }

  stop(): void {
    this.stopped = true;
    for (const messages of this.iterators) void messages.close();
  }

  private async runFacts(sink: FeedSink): Promise<void> {
    const messages = this.facts;
    if (!messages || this.stopped) return;
    let last = this.after ?? 0;
    for await (const msg of messages) {
      const parsed = conferenceEventV1Schema.safeParse(jsonOf(msg.data));
      if (!parsed.success) {
        // Bad input never stops a feed: archive dead-letters it; here it is only not shown.
        logger().warn(
          { subject: msg.subject, seq: msg.seq },
          'live feed skipped an invalid conference event',
        );
        continue;
      }
      const event = parsed.data;
      // Resume point, and protection against a republished fact (same seq) ever reaching a client twice.
      if (event.seq <= last) continue;
      last = event.seq;
      if (event.type === 'participant-invited') {
        this.watched.add(identityKey(event.participant.network, event.participant.address));
      }
      await sink.fact(event);
      if (this.stopped) break;
    }
  }

  private async runPresence(sink: FeedSink): Promise<void> {
    const messages = this.presences;
    if (!messages || this.stopped) return;
    for await (const msg of messages) {
      const parsed = presenceChangedV1Schema.safeParse(jsonOf(msg.data));
      if (!parsed.success) continue;
      const change = parsed.data;
      if (!this.watched.has(identityKey(change.network, change.address))) continue;
      await sink.presence({
        type: 'presence',
        network: change.network,
        address: change.address,
        presence: change.presence,
        ...(change.status ? { status: change.status } : {}),
        occurredAt: change.occurredAt,
      });
      if (this.stopped) break;
    }
  }
}
