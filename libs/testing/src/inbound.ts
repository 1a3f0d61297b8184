/**
 * What a gateway publishes when a participant writes to a conference's bot: for tests that drive
 * conference-core through its real inbound stream without an IM server.
 */
import type { JetStreamBus } from '@parley/bus';
import { newEnvelope, streams, subjects, type Network } from '@parley/contracts';

export interface InboundMessage {
  network: Network;
  conferenceId: string;
  /** The participant's address on `network`. */
  from: string;
  body: string;
}

/** Publishes an IM message to IM_INBOUND as the network's gateway would (a fresh envelope). */
export function publishInboundMessage(bus: JetStreamBus, message: InboundMessage) {
  return bus.publish(streams.imInbound(), subjects.imInbound(message.network, message.conferenceId), {
    ...newEnvelope(),
    kind: 'message',
    ...message,
  });
}
