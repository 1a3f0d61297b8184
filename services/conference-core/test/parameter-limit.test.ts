/**
 * Batches that would pass PostgreSQL's 65,535 bind parameters as VALUES lists are stored whole: the
 * outbox (4 columns) and the offline queue (5) are written with one array parameter per column.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { newEnvelope, type ImDeliveryV1 } from '@parley/contracts';
import { queueOffline } from '../src/offline/offline-queue.js';
import { enqueue } from '../src/outbox/outbox.relay.js';
import { acceptedEvent, openConferenceSchema } from './outbox-fixtures.js';

const conferenceId = 'big-batch-k4q7';

describe("batches over PostgreSQL's parameter limit", () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = await openConferenceSchema('core_param_limit');
    await ds.query(
      `INSERT INTO conference (id, owner_id, name, ttl_seconds, join_policy, state, created_at, updated_at)
       VALUES ($1, 'owner', 'Big batch', 3600, 'invite-only', 'active', now(), now())`,
      [conferenceId],
    );
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('puts 20,000 outbox messages (80,000 parameters) in the outbox, in publication order', async () => {
    const messages = Array.from({ length: 20_000 }, (_, i) => acceptedEvent(conferenceId, i + 1));
    await ds.transaction((manager) => enqueue(manager, messages));
    const rows = (await ds.query("SELECT payload->>'seq' AS seq FROM outbox ORDER BY id")) as Array<{
      seq: string;
    }>;
    expect(rows.map((r) => Number(r.seq))).toEqual(messages.map((_, i) => i + 1));
  });

  it('queues 14,000 deliveries (70,000 parameters) for an offline participant', async () => {
    const deliveries: ImDeliveryV1[] = Array.from({ length: 14_000 }, (_, i) => ({
      ...newEnvelope(),
      deliveryId: `m${i}:dave`,
      network: 'irc',
      conferenceId,
      botName: 'Big batch (parley)',
      to: 'dave',
      kind: 'message',
      body: `message ${i}`,
    }));
    await ds.transaction((manager) => queueOffline(manager, deliveries, 20_000));
    const rows = (await ds.query('SELECT msg_id FROM offline_queue ORDER BY id')) as Array<{
      msg_id: string;
    }>;
    expect(rows.map((r) => r.msg_id)).toEqual(deliveries.map((d) => d.deliveryId));
  });
});
