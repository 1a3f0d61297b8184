/**
 * conference-core against the real NATS and PostgreSQL, without any IM network: inbound events are
 * published to IM_INBOUND as a gateway would, and deliveries / conference events are read back
 * from IM_OUTBOUND / CONF_EVENTS. Shows the exactly-once properties of the inbox and the outbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  conferenceEventV1Schema,
  conferencesRpc,
  deliveryFor,
  imDeliveryV2Schema,
  newEnvelope,
  streams,
  subjects,
  type ConferenceEventV1,
  type ImDeliveryV1,
  type ImInboundV1,
} from '@parley/contracts';
import { serviceTestEnv, waitFor, startTestService } from '@parley/testing';
import { AppModule } from '../src/app.module.js';
import { loadServiceConfig } from '../src/config.js';

async function startCore(): Promise<NestFastifyApplication> {
  const config = loadServiceConfig(serviceTestEnv('conference-core'));
  return startTestService('conference-core', AppModule.forRoot(config));
}

describe('conference-core over the real bus and database', () => {
  const ownerId = 'owner-1';
  let core: NestFastifyApplication;
  let conferenceId: string;

  const bus = () => core.get(JetStreamBus);
  const rpc = () => core.get(RpcClient);

  /** Every message on a stream subject so far, parsed. */
  async function readStream<T>(stream: string, subject: string, parse: (v: unknown) => T): Promise<T[]> {
    const consumer = await bus().js.consumers.get(stream, { filter_subjects: subject });
    const info = await bus().jsm.streams.info(stream, { subjects_filter: subject });
    // The filter may be a wildcard: count every subject it matched.
    const expected = Object.values(info.state.subjects ?? {}).reduce((n, count) => n + count, 0);
    const out: T[] = [];
    while (out.length < expected) {
      const batch = await consumer.fetch({ max_messages: expected - out.length, expires: 2_000 });
      for await (const m of batch) out.push(parse(m.json()));
    }
    await consumer.delete().catch(() => undefined);
    return out;
  }
  /** The fan-out deliveries stored, and each recipient's delivery as the gateway serves it. */
  const fanOuts = () =>
    readStream(streams.imOutbound().name, subjects.imOutboundNetwork('xmpp'), (v) =>
      imDeliveryV2Schema.parse(v),
    );
  const deliveries = async () => (await fanOuts()).flatMap((f) => f.recipients.map((r) => deliveryFor(f, r)));
  const events = () =>
    readStream(streams.confEvents().name, subjects.confEvents(conferenceId), (v) =>
      conferenceEventV1Schema.parse(v),
    );

  function inbound(from: string, body: string, id = newEnvelope().id): ImInboundV1 {
    return {
      id,
      occurredAt: new Date().toISOString(),
      kind: 'message',
      network: 'xmpp',
      conferenceId,
      from,
      body,
    };
  }
  const publish = (event: ImInboundV1, msgId?: string) =>
    bus().publish(
      streams.imInbound(),
      subjects.imInbound('xmpp', conferenceId),
      event,
      msgId ? { msgId } : {},
    );
  const bodiesTo = (list: ImDeliveryV1[], to: string) => list.filter((d) => d.to === to).map((d) => d.body);

  beforeAll(async () => {
    core = await startCore();
    const conference = await rpc().call(conferencesRpc.create, { ownerId, name: 'Core test' });
    conferenceId = conference.id;
    await rpc().call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId,
      participants: [
        { network: 'xmpp', address: 'alice@example.org' },
        { network: 'xmpp', address: 'bob@example.org' },
      ],
    });
    await rpc().call(conferencesRpc.start, { ownerId, conferenceId });
    await publish(inbound('alice@example.org', '/join'));
    await publish(inbound('bob@example.org', '/join'));
    await waitFor('bob to be told alice is here', async () =>
      bodiesTo(await deliveries(), 'bob@example.org').some((b) => b?.startsWith('You joined')),
    );
  });

  afterAll(async () => {
    await core?.close();
  });

  it('answers owner operations on another owner’s conference with not-found, and a second start with conflict', async () => {
    await expect(
      rpc().call(conferencesRpc.start, { ownerId: 'owner-2', conferenceId }),
    ).rejects.toMatchObject({
      code: 'not-found',
    });
    await expect(
      rpc().call(conferencesRpc.listParticipants, { ownerId: 'owner-2', conferenceId }),
    ).rejects.toMatchObject({
      code: 'not-found',
    });
    await expect(rpc().call(conferencesRpc.start, { ownerId, conferenceId })).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(
      rpc().call(conferencesRpc.create, { ownerId, name: '', ttlSeconds: 5 } as never),
    ).rejects.toMatchObject({ code: 'validation-failed' });
    await expect(
      rpc().call(conferencesRpc.create, { ownerId, name: 'bell\u0007name' }),
    ).rejects.toMatchObject({
      code: 'validation-failed',
      field: 'name',
    });
  });

  it('applies an inbound event once, even when it reaches the consumer twice', async () => {
    const event = inbound('alice@example.org', 'only once please');
    await publish(event);
    // The same event again under another Nats-Msg-Id: JetStream stores it, the inbox must drop it.
    await publish(event, `${event.id}-replayed`);
    await publish(inbound('alice@example.org', 'after the replay'));
    await waitFor('the message after the replay', async () =>
      bodiesTo(await deliveries(), 'bob@example.org').includes('[alice (xmpp)] after the replay'),
    );
    expect(
      bodiesTo(await deliveries(), 'bob@example.org').filter((b) => b === '[alice (xmpp)] only once please'),
    ).toHaveLength(1);
    const alice = (
      await rpc().call(conferencesRpc.listParticipants, { ownerId, conferenceId })
    ).participants.find((p) => p.address === 'alice@example.org');
    expect(alice?.messageCount).toBe(2);
  });

  it('dead-letters a malformed inbound message and keeps relaying', async () => {
    await bus().nc.request(subjects.imInbound('xmpp', conferenceId), '{"kind":"message","body":42}');
    await publish(inbound('bob@example.org', 'still relaying'));
    await waitFor('the message after the bad one', async () =>
      bodiesTo(await deliveries(), 'alice@example.org').includes('[bob (xmpp)] still relaying'),
    );
  });

  it('numbers conference events without gaps', async () => {
    const seqs = (await events()).map((e: ConferenceEventV1) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(seqs.length).toBeGreaterThanOrEqual(7);
  });

  it('after a crash, publishes what the outbox still holds, and a row published twice is stored once', async () => {
    await core.close();
    // What a crash leaves behind: a committed but unpublished row, and a published row whose
    // "sent" mark was not committed.
    const config = loadServiceConfig(serviceTestEnv('conference-core'));
    const db = new DataSource({
      type: 'postgres',
      url: config.PARLEY_DATABASE_URL,
      schema: config.PARLEY_DATABASE_SCHEMA,
    });
    await db.initialize();
    const schema = config.PARLEY_DATABASE_SCHEMA;
    const pending = {
      ...newEnvelope(),
      deliveryId: `crash-test#0`,
      network: 'xmpp',
      conferenceId,
      botName: 'Core test (parley)',
      recipients: ['bob@example.org'],
      kind: 'message',
      body: 'left in the outbox by a crash',
    };
    await db.query(
      `INSERT INTO "${schema}".outbox (stream, subject, msg_id, payload) VALUES ('im-outbound', $1, $2, $3::jsonb)`,
      [subjects.imOutbound('xmpp', pending.conferenceId), pending.deliveryId, JSON.stringify(pending)],
    );
    const [resent] = (await db.query(
      `UPDATE "${schema}".outbox SET sent_at = NULL
        WHERE id = (SELECT id FROM "${schema}".outbox WHERE payload->>'body' = '[bob (xmpp)] still relaying')
        RETURNING payload->>'deliveryId' AS delivery_id`,
    )) as [Array<{ delivery_id: string }>, number];
    await db.destroy();

    core = await startCore();
    await waitFor('the pending row to be published', async () =>
      bodiesTo(await deliveries(), 'bob@example.org').includes('left in the outbox by a crash'),
    );
    await waitFor('the outbox to be empty', async () => {
      const [row] = (await core
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL')) as Array<{
        n: number;
      }>;
      return row?.n === 0;
    });
    const all = await fanOuts();
    expect(all.filter((d) => d.deliveryId === resent[0]!.delivery_id)).toHaveLength(1);
    expect(all.filter((d) => d.deliveryId === pending.deliveryId)).toHaveLength(1);
  });

  it('keeps the invitation tree readable after the owner cleans the inviter from the list', async () => {
    await publish(inbound('alice@example.org', '/invite xmpp carol@example.org'));
    await publish(inbound('alice@example.org', '/exit'));
    await waitFor('alice to have left', async () =>
      bodiesTo(await deliveries(), 'alice@example.org').some((b) => b?.startsWith('You left')),
    );
    expect(await rpc().call(conferencesRpc.cleanParticipants, { ownerId, conferenceId })).toEqual({
      removed: 1,
    });
    const { participants } = await rpc().call(conferencesRpc.listParticipants, { ownerId, conferenceId });
    expect(participants.map((p) => p.address)).toEqual(['bob@example.org', 'carol@example.org']);
    expect(participants[1]!.invitedBy).toEqual({
      participantId: null,
      network: 'xmpp',
      address: 'alice@example.org',
      displayName: 'alice',
    });
  });

  it('answers a departed participant the owner cleaned from the list as a stranger', async () => {
    await rpc().call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId,
      participants: [{ network: 'xmpp', address: 'frank@example.org' }],
    });
    await publish(inbound('frank@example.org', '/join'));
    await publish(inbound('frank@example.org', '/exit'));
    await waitFor('frank to have left', async () =>
      bodiesTo(await deliveries(), 'frank@example.org').some((b) => b?.startsWith('You left')),
    );
    // frank's /exit was the last message decided: the roster conference-core remembers has him, as
    // having left. The owner's clean deletes him.
    expect(await rpc().call(conferencesRpc.cleanParticipants, { ownerId, conferenceId })).toEqual({
      removed: 1,
    });
    await publish(inbound('frank@example.org', '/join'));
    await waitFor('frank to be answered', async () =>
      bodiesTo(await deliveries(), 'frank@example.org').includes(
        'Sorry, "Core test" is a private conference: only invited participants can take part.',
      ),
    );
    const { participants } = await rpc().call(conferencesRpc.listParticipants, { ownerId, conferenceId });
    expect(participants.map((p) => p.address)).not.toContain('frank@example.org');
  });

  it('refuses a participant who was removed by the owner after they last spoke, and relays nothing of theirs', async () => {
    await rpc().call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId,
      participants: [{ network: 'xmpp', address: 'dave@example.org' }],
    });
    await publish(inbound('dave@example.org', '/join'));
    await publish(inbound('dave@example.org', 'dave is here'));
    await waitFor('dave’s message to reach bob', async () =>
      bodiesTo(await deliveries(), 'bob@example.org').includes('[dave (xmpp)] dave is here'),
    );
    // conference-core last saw dave as a participant; the owner removes him through the API.
    const { participants } = await rpc().call(conferencesRpc.listParticipants, { ownerId, conferenceId });
    await rpc().call(conferencesRpc.removeParticipant, {
      ownerId,
      conferenceId,
      participantId: participants.find((p) => p.address === 'dave@example.org')!.id,
    });
    await publish(inbound('dave@example.org', 'dave after removal'));
    await waitFor('dave to be told he is no longer a participant', async () =>
      bodiesTo(await deliveries(), 'dave@example.org').includes(
        'Sorry, you are no longer a participant of "Core test".',
      ),
    );
    expect(bodiesTo(await deliveries(), 'bob@example.org')).not.toContain('[dave (xmpp)] dave after removal');
  });

  it('sees a removal committed while a message of the removed participant waited for the conference lock', async () => {
    await rpc().call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId,
      participants: [{ network: 'xmpp', address: 'erin@example.org' }],
    });
    await publish(inbound('erin@example.org', '/join'));
    await publish(inbound('erin@example.org', 'erin is here'));
    await waitFor('erin’s message to reach bob', async () =>
      bodiesTo(await deliveries(), 'bob@example.org').includes('[erin (xmpp)] erin is here'),
    );
    // Another transaction holds the conference's lock while it removes erin (as every roster change
    // does: the row locked, the participant changed, the conference row updated with a new roster
    // version).
    const dataSource = core.get(DataSource);
    const other = dataSource.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      await other.query('SELECT 1 FROM conference WHERE id = $1 FOR UPDATE', [conferenceId]);
      await other.query(
        `UPDATE participant SET state = 'removed' WHERE conference_id = $1 AND address = 'erin@example.org'`,
        [conferenceId],
      );
      await other.query(
        'UPDATE conference SET updated_at = now(), roster_version = roster_version + 1 WHERE id = $1',
        [conferenceId],
      );
      await publish(inbound('erin@example.org', 'erin while the lock is held'));
      await waitFor('erin’s message to wait for the conference lock', async () => {
        const [row] = (await dataSource.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query LIKE '%claimed_ids%'`,
        )) as Array<{ n: number }>;
        return row!.n > 0;
      });
      await other.commitTransaction();
    } finally {
      await other.release();
    }
    await waitFor('erin to be told she is no longer a participant', async () =>
      bodiesTo(await deliveries(), 'erin@example.org').includes(
        'Sorry, you are no longer a participant of "Core test".',
      ),
    );
    expect(bodiesTo(await deliveries(), 'bob@example.org')).not.toContain(
      '[erin (xmpp)] erin while the lock is held',
    );
  });
});
