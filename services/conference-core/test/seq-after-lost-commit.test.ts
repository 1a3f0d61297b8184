/**
 * Sequence numbers after a PostgreSQL failover that lost a commit (issue 14): the decision's events
 * were published, then the database went back in time (`conference.last_seq` set back by 2 here,
 * as a lost commit leaves it). The next event must follow the highest seq published, never reuse
 * one — remembered by the running process, or looked up once in CONF_EVENTS by a process started
 * afterwards; and a decision rolled back takes no seq. Real PostgreSQL, real NATS, the whole service.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  conferenceEventV1Schema,
  conferencesRpc,
  streams,
  subjects,
  type ConferenceEventV1,
} from '@parley/contracts';
import {
  publishInboundMessage,
  readStored,
  serviceTestEnv,
  startTestService,
  waitFor,
} from '@parley/testing';
import { AppModule } from '../src/app.module.js';
import { loadServiceConfig } from '../src/config.js';
import { MAX_CONFERENCES, SeqFloor } from '../src/conference/seq-floor.js';

const config = loadServiceConfig(serviceTestEnv('conference-core'));
const alice = 'alice@example.org';
const bob = 'bob@example.org';
/** conference-core's `conference` table in this test file's schema. */
const conferenceTable = `"${config.PARLEY_DATABASE_SCHEMA}".conference`;

describe('conference event seqs after a failover that lost a commit', () => {
  const ownerId = 'owner-seq';
  let core: NestFastifyApplication;
  /** conference-core's schema, as the test's own connection (it outlives a restart of the service). */
  let db: DataSource;

  const bus = () => core.get(JetStreamBus);

  /** Every event of a conference in CONF_EVENTS, in stream order. */
  const eventsOf = (conferenceId: string): Promise<ConferenceEventV1[]> =>
    readStored(bus(), streams.confEvents().name, subjects.confEvents(conferenceId), (v) =>
      conferenceEventV1Schema.parse(v),
    );

  const say = (conferenceId: string, from: string, body: string) =>
    publishInboundMessage(bus(), { network: 'xmpp', conferenceId, from, body });

  /** The seq of the message-accepted event of `body`, once it is published. */
  const publishedSeqOf = (conferenceId: string, body: string) =>
    waitFor(`the event of "${body}" in CONF_EVENTS`, async () => {
      const event = (await eventsOf(conferenceId)).find(
        (e) => e.type === 'message-accepted' && e.body === body,
      );
      return event?.seq;
    });

  const lastSeqInDb = async (conferenceId: string) =>
    Number(
      (
        (await db.query(`SELECT last_seq FROM ${conferenceTable} WHERE id = $1`, [conferenceId])) as [
          { last_seq: string },
        ]
      )[0].last_seq,
    );

  /** What a failover that lost the conference's last two events leaves in the database. */
  const loseTwoCommittedSeqs = (conferenceId: string) =>
    db.query(`UPDATE ${conferenceTable} SET last_seq = last_seq - 2 WHERE id = $1`, [conferenceId]);

  /** A running conference where alice and bob have joined and alice has said `said`. */
  async function conferenceWith(name: string, said: string): Promise<{ id: string; published: number }> {
    const rpc = core.get(RpcClient);
    const { id } = await rpc.call(conferencesRpc.create, { ownerId, name });
    await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: id,
      participants: [
        { network: 'xmpp', address: alice },
        { network: 'xmpp', address: bob },
      ],
    });
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId: id });
    await say(id, alice, '/join');
    await say(id, bob, '/join');
    await say(id, alice, said);
    const published = await publishedSeqOf(id, said);
    const seqs = (await eventsOf(id)).map((e) => e.seq);
    expect(Math.max(...seqs), 'the message is the last event published').toBe(published);
    expect(await lastSeqInDb(id), 'its commit is in the database').toBe(published);
    return { id, published };
  }

  /** Counts the CONF_EVENTS look-ups of one conference's last event that `core` makes from now on. */
  function countLookups(conferenceId: string): () => number {
    const spy = vi.spyOn(bus().jsm.streams, 'getMessage');
    const subject = subjects.confEvents(conferenceId);
    return () =>
      spy.mock.calls.filter(([, query]) => 'last_by_subj' in query && query.last_by_subj === subject).length;
  }

  beforeAll(async () => {
    core = await startTestService('conference-core', AppModule.forRoot(config));
    db = new DataSource({
      type: 'postgres',
      url: config.PARLEY_DATABASE_URL,
      schema: config.PARLEY_DATABASE_SCHEMA,
    });
    await db.initialize();
  });

  afterAll(async () => {
    await core?.close();
    await db?.destroy();
  });

  it('numbers the next event after the highest seq this process published, without asking NATS', async () => {
    const { id, published } = await conferenceWith('Seq running', 'before the failover');
    const lookups = countLookups(id);
    await loseTwoCommittedSeqs(id);

    await say(id, alice, 'after the failover');

    expect(await publishedSeqOf(id, 'after the failover')).toBe(published + 1);
    const seqs = (await eventsOf(id)).map((e) => e.seq);
    expect(new Set(seqs).size, 'no seq published twice').toBe(seqs.length);
    expect(await lastSeqInDb(id)).toBe(published + 1);
    expect(lookups(), 'no CONF_EVENTS look-up in a running conference').toBe(0);
  });

  it('takes no seq for a decision rolled back after its events were numbered', async () => {
    const { id, published } = await conferenceWith('Seq rolled back', 'before the refusal');
    // PostgreSQL refuses the decision's writes (sent with its COMMIT) once: the decision numbered its
    // event, then rolled back. The sequence counts refusals (nextval outlives a rollback).
    const schema = `"${config.PARLEY_DATABASE_SCHEMA}"`;
    await db.query(`CREATE SEQUENCE ${schema}.refusals`);
    await db.query(`
      CREATE FUNCTION ${schema}.refuse_once() RETURNS trigger AS $$
      BEGIN
        IF NEW.payload->>'body' = 'refused once' THEN
          PERFORM nextval('${schema}.refusals');
          RAISE EXCEPTION 'refused (test)';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await db.query(
      `CREATE TRIGGER refuse_once BEFORE INSERT ON ${schema}.outbox FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse_once()`,
    );

    await say(id, alice, 'refused once');
    await waitFor(
      'PostgreSQL to refuse the decision',
      async () =>
        ((await db.query(`SELECT is_called FROM ${schema}.refusals`)) as [{ is_called: boolean }])[0]
          .is_called,
    );
    await db.query(`DROP TRIGGER refuse_once ON ${schema}.outbox`);

    // Redelivered and recorded: its seq is the next one, no gap where the rolled-back one was.
    expect(await publishedSeqOf(id, 'refused once')).toBe(published + 1);
    expect(await lastSeqInDb(id)).toBe(published + 1);
  });

  it('numbers the next event after the highest seq in CONF_EVENTS when the service started after the failover', async () => {
    const { id, published } = await conferenceWith('Seq restarted', 'before the restart');
    await core.close();
    await loseTwoCommittedSeqs(id);
    core = await startTestService('conference-core', AppModule.forRoot(config));
    const lookups = countLookups(id);

    await say(id, alice, 'after the restart');
    expect(await publishedSeqOf(id, 'after the restart')).toBe(published + 1);
    await say(id, bob, 'and another one');
    expect(await publishedSeqOf(id, 'and another one')).toBe(published + 2);
    const seqs = (await eventsOf(id)).map((e) => e.seq);
    expect(new Set(seqs).size, 'no seq published twice').toBe(seqs.length);
    expect(await lastSeqInDb(id)).toBe(published + 2);
    expect(lookups(), 'one CONF_EVENTS look-up for the conference in this process').toBe(1);
  });

  it('forgets the least recently numbered conference beyond its cap, and asks CONF_EVENTS for it again', async () => {
    const floor = new SeqFloor(bus());
    const ids = Array.from({ length: MAX_CONFERENCES + 1 }, (_, i) => `seq-cap-${i}`);
    ids.forEach((id, i) => floor.remember(id, i + 1));
    const asked = vi.spyOn(bus().jsm.streams, 'getMessage');
    asked.mockClear();

    // The second one is still known: its seq is kept over a lower last_seq, without asking.
    expect(await floor.continueAfter(ids[1]!, 0)).toBe(2);
    expect(asked).not.toHaveBeenCalled();
    // The first one was forgotten: asked for (nothing of it in CONF_EVENTS, so last_seq stands).
    expect(await floor.continueAfter(ids[0]!, 0)).toBe(0);
    expect(asked).toHaveBeenCalledTimes(1);
  });
});
