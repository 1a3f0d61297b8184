/**
 * A bounce (the network refusing a delivery after it accepted it) is reported to the kit, which
 * keeps the delivery in the progress bucket for its retry. The report resolves only once it is kept:
 * gateway-xmpp acknowledges the error stanza to the server (mod_parley_ack) then, and gateway-irc
 * lets the fan-out be acked then, so a gateway killed right after never loses the retry. Real NATS
 * (IM_OUTBOUND, the progress bucket) and the kit's runtime, twice: the process that sent the
 * delivery, and a later one that has to look the delivery up in the stream.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  deliveryFor,
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

class RecordingAdapter extends TestAdapter {
  readonly sent: string[] = [];

  async deliver(delivery: ImDeliveryV1): Promise<void> {
    this.sent.push(delivery.to);
  }
}

describe('a bounce reported to the kit', () => {
  let bus: JetStreamBus;
  let rpc: RpcClient;
  const runtimes: GatewayRuntime[] = [];

  beforeAll(async () => {
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'bounce-kept-test' });
    await bus.ensureStreams();
    rpc = RpcClient.create(testEnv.natsUrl());
  });

  afterAll(async () => {
    for (const runtime of runtimes) await runtime.onModuleDestroy();
    await rpc?.close();
    await bus?.close();
  });

  async function start(adapter: RecordingAdapter): Promise<GatewayRuntime> {
    // No retry during the test: what is kept is what the test reads.
    const runtime = await startRuntime(adapter, bus, rpc, { bounceRetryMs: [600_000] });
    runtimes.push(runtime);
    return runtime;
  }

  it('resolves once the retry is kept, by the process that sent it and by a later one', async () => {
    const conferenceId = `bounce-${randomBytes(4).toString('hex')}`;
    const [alice, bob] = ['alice', 'bob'].map((name) => `${name}-${conferenceId}@localhost`) as [
      string,
      string,
    ];
    const fanOut: ImDeliveryV2 = {
      ...newEnvelope(),
      deliveryId: `${conferenceId}-fan-out`,
      network: 'xmpp',
      conferenceId,
      botName: 'Bounce (parley)',
      kind: 'message',
      body: 'refused after it was accepted',
      recipients: [alice, bob],
    };
    await bus.publish(streams.imOutbound(), subjects.imOutbound('xmpp', conferenceId), fanOut, {
      msgId: fanOut.deliveryId,
    });
    const adapter = new RecordingAdapter();
    const first = await start(adapter);
    await waitFor('the fan-out sent to both', () => adapter.sent.length === 2);
    const progress = new DeliveryProgressStore(await openDeliveryProgressBucket(bus), 'xmpp');
    /** Reports `to`'s delivery bounced to `runtime`, and checks its retry is kept once that resolved. */
    const bounceIsKept = async (runtime: GatewayRuntime, to: string, reason: string) => {
      const { deliveryId } = deliveryFor(fanOut, to);
      await runtime.bounced(deliveryId, reason, conferenceId);
      const kept = (await progress.allBounced()).find((b) => b.delivery.deliveryId === deliveryId);
      expect(kept, 'kept when the report resolved').toMatchObject({ bounces: 1, reason, delivery: { to } });
    };

    // The process that sent it remembers the delivery.
    await bounceIsKept(first, alice, 'recipient-unavailable');

    // A later process does not: it finds the delivery in IM_OUTBOUND first.
    await first.onModuleDestroy();
    await bounceIsKept(await start(new RecordingAdapter()), bob, 'service-unavailable');
  }, 60_000);
});
