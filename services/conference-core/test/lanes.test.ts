/**
 * One lane per conference: a conference whose messages keep failing (here: PostgreSQL refuses its
 * writes, through a trigger) must not delay another conference of the same IM_INBOUND partition.
 * The failing message is retried with backoff and then dead-lettered; only its own conference
 * waits meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DeliverPolicy } from '@nats-io/jetstream';
import { DataSource } from 'typeorm';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  HEADERS,
  conferencesRpc,
  dlqStream,
  imDeliveryV2Schema,
  inboundPartition,
  streams,
  subjects,
  type ImDeliveryV2,
} from '@parley/contracts';
import { publishInboundMessage, serviceTestEnv, startTestService, waitFor } from '@parley/testing';
import { AppModule } from '../src/app.module.js';
import { loadServiceConfig } from '../src/config.js';

const ownerId = 'lanes-owner';
const alice = 'alice@lanes.example';
const bob = 'bob@lanes.example';
/** The inbound consumer's retries of a failing message: 200 ms, 1 s, 5 s, 15 s, then the DLQ. */
const RETRYING_MS = 200 + 1_000 + 5_000 + 15_000;
const MESSAGES = 20;

describe('a failing conference and a healthy one in the same partition', () => {
  let core: NestFastifyApplication;
  const bus = () => core.get(JetStreamBus);
  const rpc = () => core.get(RpcClient);
  const db = () => core.get(DataSource);
  /** When each relayed message to bob was seen on IM_OUTBOUND, by body. */
  const seenAt = new Map<string, number>();
  let stopReading: (() => Promise<void>) | undefined;

  const say = (conferenceId: string, from: string, body: string) =>
    publishInboundMessage(bus(), { network: 'xmpp', conferenceId, from, body });

  /** Creates conferences until two fall into the same partition; both started, alice and bob joined. */
  async function twoConferencesInOnePartition(): Promise<[string, string]> {
    const byPartition = new Map<number, string>();
    for (let i = 0; ; i++) {
      const { id } = await rpc().call(conferencesRpc.create, { ownerId, name: `Lane ${i}` });
      const other = byPartition.get(inboundPartition(id));
      if (other) return [other, id];
      byPartition.set(inboundPartition(id), id);
    }
  }

  async function startWithAliceAndBob(conferenceId: string): Promise<void> {
    await rpc().call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId,
      participants: [alice, bob].map((address) => ({ network: 'xmpp', address })),
    });
    await rpc().call(conferencesRpc.start, { ownerId, conferenceId });
    await say(conferenceId, alice, '/join');
    await say(conferenceId, bob, '/join');
  }

  beforeAll(async () => {
    core = await startTestService(
      'conference-core',
      AppModule.forRoot(loadServiceConfig(serviceTestEnv('conference-core'))),
    );
    const reader = await bus().js.consumers.get(streams.imOutbound().name, {
      filter_subjects: subjects.imOutboundNetwork('xmpp'),
      deliver_policy: DeliverPolicy.New,
    });
    const messages = await reader.consume();
    const loop = (async () => {
      for await (const m of messages) {
        const fanOut: ImDeliveryV2 = imDeliveryV2Schema.parse(m.json());
        if (fanOut.recipients.includes(bob) && fanOut.body)
          seenAt.set(`${fanOut.conferenceId} ${fanOut.body}`, Date.now());
      }
    })();
    stopReading = async () => {
      await messages.close();
      await loop;
    };
  });

  afterAll(async () => {
    await db()
      .query('DROP TRIGGER IF EXISTS refuse_one_conference ON outbox')
      .catch(() => undefined);
    await stopReading?.();
    await core?.close();
  });

  it('relays the healthy conference while the failing one is retried, then dead-letters the failing message', async () => {
    const [failing, healthy] = await twoConferencesInOnePartition();
    await startWithAliceAndBob(failing);
    await startWithAliceAndBob(healthy);
    await waitFor('bob to have joined both conferences', () =>
      [failing, healthy].every((id) => [...seenAt.keys()].some((key) => key.startsWith(`${id} You joined`)))
        ? true
        : null,
    );

    // From now on PostgreSQL refuses every write of the failing conference's decisions.
    await db().query(`
      CREATE OR REPLACE FUNCTION refuse_one_conference() RETURNS trigger AS $$
      BEGIN
        IF NEW.payload->>'conferenceId' = '${failing}' THEN
          RAISE EXCEPTION 'conference % is broken (test)', '${failing}';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await db().query(
      'CREATE TRIGGER refuse_one_conference BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_one_conference()',
    );
    const brokenAt = Date.now();
    await say(failing, alice, 'this one cannot be recorded');
    const sentAt = new Map<string, number>();
    for (let i = 1; i <= MESSAGES; i++) {
      sentAt.set(`${healthy} [alice (xmpp)] healthy ${i}`, Date.now());
      await say(healthy, alice, `healthy ${i}`);
    }
    await waitFor(`all ${MESSAGES} messages of the healthy conference relayed to bob`, () =>
      [...sentAt.keys()].every((key) => seenAt.has(key)) ? true : null,
    );
    // The healthy conference did not wait for the failing one's retries (≥ 21 s before its dead letter).
    const delays = [...sentAt].map(([key, at]) => seenAt.get(key)! - at);
    expect(Math.max(...delays)).toBeLessThan(RETRYING_MS);
    expect(seenAt.has(`${failing} [alice (xmpp)] this one cannot be recorded`)).toBe(false);

    const dlq = await bus().js.consumers.get(dlqStream().name, { deliver_policy: DeliverPolicy.All });
    const dead = await waitFor(
      'the failing message in the dead-letter stream',
      async () => {
        const m = await dlq.next({ expires: 1_000 });
        return m?.headers?.get(HEADERS.dlqSubject) === subjects.imInbound('xmpp', failing) ? m : undefined;
      },
      RETRYING_MS + 20_000,
    );
    expect(dead.headers?.get(HEADERS.dlqReason)).toMatch(/^exhausted after 5 attempts: .*is broken \(test\)/);
    expect(Date.now() - brokenAt).toBeGreaterThanOrEqual(RETRYING_MS);
  }, 90_000);
});
