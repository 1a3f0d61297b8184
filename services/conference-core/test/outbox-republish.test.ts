/**
 * The outbox relay after an outage longer than JetStream's duplicate window: a pass published a
 * row, then could not mark it sent (PostgreSQL failed at that moment), and the next pass comes when
 * the stream no longer recognises the message id. The stream must still hold the message once.
 * The window is shortened to 100 ms for the test (CONF_EVENTS re-provisioned so), and the outage to
 * a rewritten `attempted_at`: real PostgreSQL, real NATS, the real relay.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { JetStreamBus } from '@parley/bus';
import { streams, subjects } from '@parley/contracts';
import { testEnv, waitFor } from '@parley/testing';
import { OutboxRelay, enqueue } from '../src/outbox/outbox.relay.js';
import { acceptedEvent, openConferenceSchema } from './outbox-fixtures.js';

describe('outbox rows republished after the duplicate window', () => {
  let ds: DataSource;
  let bus: JetStreamBus;
  let relay: OutboxRelay;

  /** How many messages with this id the conference's subject holds. */
  const copies = async (conferenceId: string, msgId: string) => {
    const reader = await bus.js.consumers.get(streams.confEvents().name, {
      filter_subjects: subjects.confEvents(conferenceId),
    });
    let n = 0;
    const { state } = await bus.jsm.streams.info(streams.confEvents().name, {
      subjects_filter: subjects.confEvents(conferenceId),
    });
    const total = state.subjects?.[subjects.confEvents(conferenceId)] ?? 0;
    for (let read = 0; read < total;) {
      for await (const msg of await reader.fetch({ max_messages: total - read, expires: 2_000 })) {
        read++;
        if (msg.headers?.get('Nats-Msg-Id') === msgId) n++;
      }
    }
    await reader.delete().catch(() => undefined);
    return n;
  };

  const unsent = async () =>
    ((await ds.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL')) as [{ n: number }])[0].n;

  /** Waits until the stream stores a message id again that it stored before (the window is over). */
  const windowPassed = async () => {
    const { subject, payload } = acceptedEvent('probe', 1);
    const event = streams.confEvents().schema.parse(payload);
    const msgId = `probe-${randomUUID()}`;
    await bus.publish(streams.confEvents(), subject, event, { msgId });
    await waitFor('the duplicate window to run out', async () => {
      const ack = await bus.publish(streams.confEvents(), subject, event, { msgId });
      return !ack.duplicate;
    });
  };

  beforeAll(async () => {
    ds = await openConferenceSchema('core_outbox_window');
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'outbox-window-test' });
    await bus.ensureStreams([{ ...streams.confEvents(), duplicateWindowMs: 100 }]);
    relay = new OutboxRelay(ds, bus);
  });

  afterAll(async () => {
    await relay?.onModuleDestroy();
    await ds?.query('DROP TRIGGER IF EXISTS fail_marking ON outbox').catch(() => undefined);
    await ds?.destroy();
    await bus?.close();
  });

  it('does not store a second copy of a row published before a long outage', async () => {
    const conferenceId = `outage-${randomUUID().slice(0, 8)}`;
    const row = acceptedEvent(conferenceId, 1);
    await ds.transaction((manager) => enqueue(manager, [row]));

    // PostgreSQL fails the moment the pass marks the row sent: published, not marked.
    await ds.query(`
      CREATE OR REPLACE FUNCTION fail_marking() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'injected: the database went away'; END $$`);
    await ds.query(
      'CREATE TRIGGER fail_marking BEFORE UPDATE OF sent_at ON outbox FOR EACH ROW EXECUTE FUNCTION fail_marking()',
    );
    await expect(relay.drain()).rejects.toThrow(/injected/);
    expect(await copies(conferenceId, row.msgId)).toBe(1);
    expect(await unsent()).toBe(1);

    // The outage outlasts the duplicate window; then the database is back.
    await ds.query('DROP TRIGGER fail_marking ON outbox');
    await ds.query("UPDATE outbox SET attempted_at = attempted_at - interval '10 minutes'");
    await windowPassed();
    await relay.drain();

    expect(await unsent()).toBe(0);
    expect(await copies(conferenceId, row.msgId)).toBe(1);
  });

  it('publishes a row tried long ago that never reached the stream', async () => {
    const conferenceId = `never-${randomUUID().slice(0, 8)}`;
    const row = acceptedEvent(conferenceId, 1);
    await ds.transaction((manager) => enqueue(manager, [row]));
    // As if a pass had tried it ten minutes ago and NATS had refused it.
    await ds.query("UPDATE outbox SET attempted_at = now() - interval '10 minutes' WHERE msg_id = $1", [
      row.msgId,
    ]);
    await relay.drain();
    expect(await unsent()).toBe(0);
    expect(await copies(conferenceId, row.msgId)).toBe(1);
  });
});
