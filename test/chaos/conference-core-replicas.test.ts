/**
 * Chaos: two conference-core processes share the conference lanes (IM_INBOUND partitions, each held
 * by one replica through a PostgreSQL advisory lock); one is killed with SIGKILL mid-traffic and not
 * restarted. The survivor must take its partitions over within seconds, and every conference must
 * still be relayed exactly once, in its accepted order (see relay-harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { JetStreamBus, RpcClient } from '@parley/bus';
import { INBOUND_PARTITIONS } from '@parley/contracts';
import { spawnServiceReady, testSchema, waitFor, type ServiceProcess } from '@parley/testing';
import { partitionLockKeys } from '../../services/conference-core/src/conference/inbound.consumer.js';
import {
  chatText,
  drawConferencesSplit,
  expectRelayedExactlyOnceInOrder,
  startChaosConference,
  waitUntilSettled,
  type ChaosConference,
  ChaosRig,
} from './relay-harness.js';

const ownerId = 'chaos-replicas-owner';
const CONFERENCES = 6;
const PER_SENDER = 40;

describe('two conference-core replicas, one killed with SIGKILL mid-traffic', () => {
  let rig: ChaosRig;
  let rpc: RpcClient;
  let bus: JetStreamBus;
  let db: pg.Client;
  let children: ServiceProcess[];
  let followers: Array<{ stop: () => Promise<void> }>;

  /** Which database session (backend pid) holds which inbound partition. */
  async function partitionHolders(): Promise<Map<number, number>> {
    const { partitions } = partitionLockKeys(testSchema('conference-core'));
    const { rows } = await db.query<{ pid: number; partition: number }>(
      `SELECT pid, objid::int AS partition FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::bigint::oid`,
      [partitions],
    );
    return new Map(rows.map((r) => [r.partition, r.pid]));
  }

  beforeAll(async () => {
    rig = await ChaosRig.open('chaos-replicas-test');
    ({ rpc, bus, db, children, followers } = rig);
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('shares the partitions, takes a dead replica’s over, and relays every message exactly once in order', async () => {
    const first = await spawnServiceReady('conference-core', rpc);
    children.push(first);
    await waitFor('the first replica to hold every partition', async () =>
      (await partitionHolders()).size === INBOUND_PARTITIONS ? true : null,
    );
    const second = await spawnServiceReady('conference-core', rpc);
    children.push(second);
    const split = await waitFor('the two replicas to hold half the partitions each', async () => {
      const holders = await partitionHolders();
      const counts = new Map<number, number>();
      for (const pid of holders.values()) counts.set(pid, (counts.get(pid) ?? 0) + 1);
      return holders.size === INBOUND_PARTITIONS &&
        counts.size === 2 &&
        [...counts.values()].every((n) => n === 4)
        ? holders
        : null;
    });

    const ids = await drawConferencesSplit(rpc, ownerId, CONFERENCES, split, 'Replicas');
    const conferences: ChaosConference[] = [];
    for (const [i, id] of ids.entries()) {
      const people = ['alice', 'bob', 'carol'].map((who) => `${who}${i}@chaos.example`);
      const conference = await startChaosConference(rpc, bus, ownerId, id, people, true);
      followers.push(conference.deliveries, conference.events);
      conferences.push(conference);
    }

    const sent = conferences.map((c) => {
      const [alice, bob] = c.participants as [string, string, string];
      return {
        [alice]: Array.from({ length: PER_SENDER }, (_, i) => `chaos ${alice} ${i + 1}`),
        [bob]: Array.from({ length: PER_SENDER }, (_, i) => `chaos ${bob} ${i + 1}`),
      } as Record<string, string[]>;
    });
    const sending = Promise.all(
      conferences.flatMap((c, i) =>
        Object.entries(sent[i]!).map(async ([from, bodies]) => {
          for (const body of bodies) await c.publishInbound(from, body);
        }),
      ),
    );
    const chatDeliveries = () =>
      conferences.reduce((n, c) => n + c.perRecipient().filter((d) => chatText(d) !== null).length, 0);
    const due = CONFERENCES * 2 * PER_SENDER * 2;
    await waitFor(
      'a tenth of the chat deliveries before the kill',
      () => chatDeliveries() >= due / 10,
      30_000,
      5,
    );
    first.child.kill('SIGKILL');
    await first.exited();
    expect(chatDeliveries(), 'the kill interrupted the traffic').toBeLessThan(due);
    await sending;

    await waitFor('the surviving replica to hold every partition', async () => {
      const holders = await partitionHolders();
      return holders.size === INBOUND_PARTITIONS && new Set(holders.values()).size === 1 ? true : null;
    });
    await waitUntilSettled(bus, db, conferences);
    conferences.forEach((c, i) => expectRelayedExactlyOnceInOrder(c, sent[i]!));
  }, 120_000);
});
