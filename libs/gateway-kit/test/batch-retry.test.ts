/**
 * A conference's backlog of fan-outs goes to the network as one batch (PARLEY_GATEWAY_BATCH_DELIVERIES);
 * when a send of the batch fails, the batch is served again one fan-out at a time. The recipients
 * the batch reached are not sent again, and they stay in each fan-out's delivery progress: the
 * retry's progress is written over the batch's, so a recipient left out of it would be sent again
 * by a gateway that takes the fan-outs over after a restart. Real NATS (IM_OUTBOUND, the progress
 * bucket) and the kit's runtime, with an adapter that records what it is asked to send.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamBus, RpcClient } from '@parley/bus';
import { newEnvelope, streams, subjects, type ImDeliveryV1, type ImDeliveryV2 } from '@parley/contracts';
import { testEnv, waitFor } from '@parley/testing';
import { DeliveryProgressStore, openDeliveryProgressBucket } from '../src/delivery-progress.js';
import type { GatewayRuntime } from '../src/gateway-runtime.js';
import { TestAdapter, startRuntime } from './test-adapter.js';

/** Sends nothing anywhere: records each delivery, and refuses the ones `refuse` picks, once each. */
class RecordingAdapter extends TestAdapter {
  readonly sent: Array<{ deliveryId: string; to: string }> = [];
  private readonly refused = new Set<string>();

  get refusedOnce(): boolean {
    return this.refused.size === 1;
  }

  constructor(private readonly refuse: (delivery: ImDeliveryV1) => boolean) {
    super();
  }

  async deliver(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void> {
    if (this.refuse(delivery) && !this.refused.has(delivery.deliveryId)) {
      this.refused.add(delivery.deliveryId);
      throw new Error(`refused once: ${delivery.deliveryId}`);
    }
    this.sent.push({ deliveryId: delivery.deliveryId, to: delivery.to });
    onWritten?.();
  }
}

describe('a batch of fan-outs that failed for one recipient', () => {
  let bus: JetStreamBus;
  let rpc: RpcClient;
  let runtime: GatewayRuntime | undefined;

  beforeAll(async () => {
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'batch-retry-test' });
    await bus.ensureStreams();
    rpc = RpcClient.create(testEnv.natsUrl());
  });

  afterAll(async () => {
    await runtime?.onModuleDestroy();
    await rpc?.close();
    await bus?.close();
  });

  it('is served again without sending twice, and every recipient it reached stays in the progress', async () => {
    const conferenceId = `batch-${randomBytes(4).toString('hex')}`;
    const [alice, bob] = [`alice-${conferenceId}@localhost`, `bob-${conferenceId}@localhost`];
    const fanOuts: ImDeliveryV2[] = [1, 2, 3, 4].map((n) => ({
      ...newEnvelope(),
      deliveryId: `${conferenceId}-fan-out-${n}`,
      network: 'xmpp',
      conferenceId,
      botName: 'Batch (parley)',
      kind: 'message',
      body: `message ${n}`,
      recipients: [alice, bob],
    }));
    // The backlog is in the stream before the gateway starts: the lane's first fan-out is served
    // alone, the ones that queued behind it meanwhile as one batch.
    for (const fanOut of fanOuts) {
      await bus.publish(streams.imOutbound(), subjects.imOutbound('xmpp', conferenceId), fanOut, {
        msgId: fanOut.deliveryId,
      });
    }
    // alice's second message fails once, in the batch: her later ones wait, bob gets them all.
    const adapter = new RecordingAdapter((d) => d.deliveryId === `${fanOuts[1]!.deliveryId}:${alice}`);
    runtime = await startRuntime(adapter, bus, rpc, { batchDeliveries: true, backoffMs: [100] });

    await waitFor('every message sent to both recipients', () => (adapter.sent.length >= 8 ? true : null));
    expect(adapter.refusedOnce, 'the batch failed on alice’s second message').toBe(true);
    const heardBy = (to: string) => adapter.sent.filter((s) => s.to === to).map((s) => s.deliveryId);
    expect(heardBy(bob), 'bob: each message once, in order').toEqual(
      fanOuts.map((f) => `${f.deliveryId}:${bob}`),
    );
    expect(heardBy(alice), 'alice: each message once, in order').toEqual(
      fanOuts.map((f) => `${f.deliveryId}:${alice}`),
    );

    const progress = new DeliveryProgressStore(await openDeliveryProgressBucket(bus), 'xmpp');
    for (const fanOut of fanOuts) {
      await waitFor(`the progress of ${fanOut.deliveryId}`, async () =>
        (await progress.served(fanOut.deliveryId, 2)).size === 2 ? true : null,
      ).catch(() => undefined);
      expect(
        await progress.served(fanOut.deliveryId, 2),
        `${fanOut.deliveryId}: both recipients recorded as served`,
      ).toEqual(new Set([0, 1]));
    }
  });
});
