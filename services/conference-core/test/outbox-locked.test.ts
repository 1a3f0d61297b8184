/**
 * Two replicas' relays share one lock: a replica whose kick finds the other relaying must still get
 * its rows out once the lock is free — without waiting for its one-second poll (which this test
 * never starts: only kicks). Real PostgreSQL, real NATS, the real relay; the other replica is a
 * session holding the relay's lock.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource, QueryRunner } from 'typeorm';
import { JetStreamBus } from '@parley/bus';
import { streams } from '@parley/contracts';
import { testEnv, waitFor } from '@parley/testing';
import { OutboxRelay, enqueue } from '../src/outbox/outbox.relay.js';
import { acceptedEvent, openConferenceSchema } from './outbox-fixtures.js';

const RELAY_LOCK = "hashtext(current_schema() || '.outbox')";

describe('an outbox relay that found another replica relaying', () => {
  let ds: DataSource;
  let bus: JetStreamBus;
  let relay: OutboxRelay;
  let otherReplica: QueryRunner;

  const unsent = async () =>
    ((await ds.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL')) as [{ n: number }])[0].n;

  beforeAll(async () => {
    ds = await openConferenceSchema('core_outbox_locked');
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'outbox-locked-test' });
    await bus.ensureStreams([streams.confEvents()]);
    relay = new OutboxRelay(ds, bus); // no onApplicationBootstrap: no poll timer
    otherReplica = ds.createQueryRunner();
    await otherReplica.connect();
  });

  afterAll(async () => {
    await relay?.onModuleDestroy();
    await otherReplica?.release();
    await ds?.destroy();
    await bus?.close();
  });

  it('publishes its rows once the other lets the lock go', async () => {
    await otherReplica.query(`SELECT pg_advisory_lock(${RELAY_LOCK})`);
    const conferenceId = `locked-${randomUUID().slice(0, 8)}`;
    await ds.transaction((manager) => enqueue(manager, [acceptedEvent(conferenceId, 1)]));
    relay.kick();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await unsent()).toBe(1); // nothing relayed while the other replica holds the lock

    await otherReplica.query(`SELECT pg_advisory_unlock(${RELAY_LOCK})`);
    await waitFor('the row relayed after the lock was let go', async () => (await unsent()) === 0);
    const stored = await bus.jsm.streams.getMessage(streams.confEvents().name, {
      last_by_subj: acceptedEvent(conferenceId, 1).subject,
    });
    expect(stored?.json<{ conferenceId: string; seq: number }>()).toMatchObject({ conferenceId, seq: 1 });
  });
});
