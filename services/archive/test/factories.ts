/** Small factories for archive tests: CONF_EVENTS messages as conference-core publishes them. */
import { JetStreamBus } from '@parley/bus';
import { newEnvelope, streams, subjects, type ConferenceEventV1 } from '@parley/contracts';
import { testEnv } from '@parley/testing';

export const alice = { network: 'xmpp' as const, address: 'alice@localhost', displayName: 'alice' };
export const bob = { network: 'irc' as const, address: 'bob@irc.localhost', displayName: 'bob' };

export function message(
  conferenceId: string,
  seq: number,
  body: string,
  options: { sender?: typeof alice | typeof bob; at?: Date } = {},
): ConferenceEventV1 {
  return {
    ...newEnvelope(options.at ?? new Date()),
    conferenceId,
    seq,
    type: 'message-accepted',
    sender: options.sender ?? alice,
    body,
  };
}

export function notice(
  conferenceId: string,
  seq: number,
  type: 'participant-joined' | 'participant-left',
  participant: typeof alice | typeof bob,
  at = new Date(),
): ConferenceEventV1 {
  return { ...newEnvelope(at), conferenceId, seq, type, participant };
}

/** A publisher on this test file's bus prefix, publishing exactly as conference-core does. */
export async function confEventsPublisher() {
  const bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'archive-test-publisher' });
  await bus.ensureStreams();
  const stream = streams.confEvents();
  return {
    bus,
    publish: (event: ConferenceEventV1, msgId?: string) =>
      bus.publish(stream, subjects.confEvents(event.conferenceId), event, msgId ? { msgId } : {}),
  };
}
