/**
 * A fan-out's delivery progress against a real NATS KV bucket: what a restarted gateway reads is
 * what the last process recorded — recipients recorded the moment they were written, taken out
 * again when their send failed after all, and written behind for those marked later.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamBus } from '@parley/bus';
import { testEnv, waitFor } from '@parley/testing';
import {
  DeliveryProgressStore,
  FanOutProgress,
  openDeliveryProgressBucket,
} from '../src/delivery-progress.js';

describe('fan-out progress in NATS KV', () => {
  let bus: JetStreamBus;
  let store: DeliveryProgressStore;
  const fanOutId = () => `fan-out-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'fan-out-progress-test' });
    store = new DeliveryProgressStore(await openDeliveryProgressBucket(bus), 'xmpp');
  });

  afterAll(async () => {
    await bus?.close();
  });

  it('has a recipient recorded at once stored without a flush', async () => {
    const id = fanOutId();
    const progress = new FanOutProgress(store, id, 3, new Set());
    progress.recordNow(0);
    progress.recordNow(2);
    await waitFor(
      'the recorded recipients in the bucket',
      async () => (await store.served(id, 3)).size === 2,
    );
    expect(await store.served(id, 3)).toEqual(new Set([0, 2]));
  });

  it('takes a recipient whose send failed after it was written out again', async () => {
    const id = fanOutId();
    const progress = new FanOutProgress(store, id, 3, new Set());
    progress.recordNow(0);
    progress.recordNow(1);
    await waitFor('both recipients in the bucket', async () => (await store.served(id, 3)).size === 2);
    progress.unrecord(1);
    await progress.flush();
    expect(await store.served(id, 3), 'the next process sends to recipient 1 again').toEqual(new Set([0]));
  });

  it('stores the latest state when writes overlap, marks and records mixed', async () => {
    const id = fanOutId();
    const progress = new FanOutProgress(store, id, 40, new Set([39]));
    for (let index = 0; index < 30; index++) {
      if (index % 3 === 0) progress.mark(index);
      else progress.recordNow(index);
      // Some writes start while earlier ones are in flight.
      if (index % 7 === 0) await Promise.resolve();
    }
    progress.unrecord(4);
    progress.unrecord(5);
    await progress.flush();
    const expected = new Set([
      39,
      ...Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 4 && i !== 5),
    ]);
    expect(await store.served(id, 40)).toEqual(expected);
  });
});
