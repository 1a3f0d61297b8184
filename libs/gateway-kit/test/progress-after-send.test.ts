/**
 * When a fan-out's recipients are recorded in the delivery progress, which a gateway started after
 * a crash reads so as not to send them again. Real NATS (IM_OUTBOUND, the progress bucket) and the
 * kit's runtime, with an adapter that records what it is asked to send:
 * - an adapter that reports the step that wrote a delivery (`onWritten`; gateway-irc, which then
 *   waits for the server's PONG) has it recorded in that step, while its send is still pending;
 * - when the adapter could not tell (gateway-xmpp when the component connection's buffer was full:
 *   Prosody busy, e.g. behind a big conference's fan-out, so the kernel took the stanzas later), it
 *   is recorded in the step its send resolved. It used to be written behind, up to 50 ms later,
 *   and a gateway killed in between had handed the server a delivery it never recorded: its next
 *   process sent it again. The runtime holds each recipient after that step (the test hold stands
 *   for the kill) and the bucket is read meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  consumers,
  newEnvelope,
  streams,
  subjects,
  type ImDeliveryV1,
  type ImDeliveryV2,
} from '@parley/contracts';
import { testEnv, waitFor } from '@parley/testing';
import { DeliveryProgressStore, openDeliveryProgressBucket } from '../src/delivery-progress.js';
import type { GatewayRuntime } from '../src/gateway-runtime.js';
import { TestAdapter, startRuntime } from './test-adapter.js';

/**
 * Sends nothing anywhere. bob's delivery is reported written at once and its send then waits until
 * the test releases it (as an IRC say waits for the PONG); everyone else's resolves on the next turn
 * of the event loop without a report (as a send the kernel took after the writing step).
 */
class RecordingAdapter extends TestAdapter {
  readonly sent: string[] = [];
  private answer: (() => void) | undefined;

  async deliver(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void> {
    this.sent.push(delivery.to);
    if (delivery.to.startsWith('bob-')) {
      onWritten?.();
      await new Promise<void>((resolve) => (this.answer = resolve));
    } else await new Promise((resolve) => setImmediate(resolve));
  }

  /** bob's send resolves. */
  release(): void {
    this.answer?.();
  }
}

/** Each recipient is held this long after its send resolved: the gateway is "killed" in there. */
const HOLD_MS = 20_000;

describe('the delivery progress of a fan-out being served', () => {
  let bus: JetStreamBus;
  let rpc: RpcClient;
  let runtime: GatewayRuntime | undefined;
  const adapter = new RecordingAdapter();

  beforeAll(async () => {
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'progress-after-send-test' });
    await bus.ensureStreams();
    rpc = RpcClient.create(testEnv.natsUrl());
  });

  afterAll(async () => {
    adapter.release();
    await runtime?.onModuleDestroy();
    await rpc?.close();
    await bus?.close();
  });

  it('holds each recipient from the step its delivery was reported written or its send resolved', async () => {
    const conferenceId = `progress-${randomBytes(4).toString('hex')}`;
    const recipients = ['alice', 'bob', 'carol'].map((name) => `${name}-${conferenceId}@localhost`);
    const fanOut: ImDeliveryV2 = {
      ...newEnvelope(),
      deliveryId: `${conferenceId}-fan-out`,
      network: 'xmpp',
      conferenceId,
      botName: 'Progress (parley)',
      kind: 'message',
      body: 'recorded as it is written',
      recipients,
    };
    await bus.publish(streams.imOutbound(), subjects.imOutbound('xmpp', conferenceId), fanOut, {
      msgId: fanOut.deliveryId,
    });
    runtime = await startRuntime(adapter, bus, rpc, { holdAfterSendMs: HOLD_MS });
    await waitFor('the fan-out sent to its three recipients', () => adapter.sent.length === 3);

    // alice and carol held after their sends, bob's still waiting for an answer: the gateway is
    // killed now, and the next process reads the bucket.
    const progress = new DeliveryProgressStore(await openDeliveryProgressBucket(bus), 'xmpp');
    await waitFor(
      'every recipient in the delivery progress while the gateway still holds the fan-out',
      async () => ((await progress.served(fanOut.deliveryId, 3)).size === 3 ? true : null),
      HOLD_MS / 2,
    ).catch(() => undefined);
    expect(adapter.sent.sort(), 'each sent once').toEqual([...recipients].sort());
    const pending = await bus.jsm.consumers.info(
      streams.imOutbound().name,
      consumers.gatewayOutbound('xmpp'),
    );
    expect(pending.num_ack_pending, 'the fan-out is not acked yet (the hold is still on)').toBe(1);
    expect(
      await progress.served(fanOut.deliveryId, 3),
      'a gateway killed now would not send it again to anyone',
    ).toEqual(new Set([0, 1, 2]));
  }, 60_000);
});
