/**
 * The presence service against the real NATS, driven the way a gateway drives it: presence
 * updates published on PRESENCE_UPDATES, change events read back from PRESENCE_CHANGES, and the
 * batch query over request/reply. Two replicas run side by side, so every test also exercises the
 * optimistic concurrency between them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  MAX_PRESENCE_QUERY_IDENTITIES,
  consumers,
  presenceChangedV1Schema,
  presenceRpc,
  streams,
  subjects,
  uuidv7,
  type AggregatePresence,
  type IdentityPresence,
  type PresenceChangedV1,
  type PresenceShow,
  type PresenceUpdateV1,
} from '@parley/contracts';
import { serviceTestEnv, testEnv, waitFor, startTestService } from '@parley/testing';
import { AppModule } from '../src/app.module.js';
import { loadServiceConfig } from '../src/config.js';
import { applyPresenceUpdate } from '../src/presence/presence-rules.js';
import { PRESENCE_KV, PresenceStore, presenceKey } from '../src/presence/presence-store.js';
import { PresencePruner } from '../src/presence/presence-pruning.scheduler.js';
import { PresenceService } from '../src/presence/presence.service.js';

let replicas: NestFastifyApplication[] = [];
let gateway: JetStreamBus;
let rpc: RpcClient;

async function startReplica(): Promise<NestFastifyApplication> {
  const config = loadServiceConfig(serviceTestEnv('presence'));
  return startTestService('presence', AppModule.forRoot(config));
}

beforeAll(async () => {
  replicas = [await startReplica(), await startReplica()];
  // The test plays the gateway: 100,000 publishes. Without async stack traces a nats.js request
  // costs about a third less CPU, which this shared 2-core machine needs more than the traces.
  gateway = await JetStreamBus.fromConnection(
    await connect({ servers: testEnv.natsUrl(), name: 'presence-test-gateway', noAsyncTraces: true }),
  );
  rpc = RpcClient.create(testEnv.natsUrl());
  await rpc.connect();
});

afterAll(async () => {
  await Promise.all(replicas.map((app) => app.close()));
  await rpc?.close();
  await gateway?.close();
});

/** What a gateway publishes when one client of `address` changes its presence. */
function clientPresence(
  address: string,
  resource: string,
  show: PresenceShow,
  status?: string,
  occurredAt = new Date(),
): PresenceUpdateV1 {
  return {
    id: uuidv7(occurredAt.getTime()),
    occurredAt: occurredAt.toISOString(),
    network: 'xmpp',
    address,
    resource,
    show,
    ...(status ? { status } : {}),
  };
}

async function report(update: PresenceUpdateV1, msgId?: string): Promise<void> {
  await gateway.publish(
    streams.presenceUpdates(),
    subjects.presenceUpdate(update.network),
    update,
    msgId ? { msgId } : {},
  );
}

/** Resolves when both replicas have handled (and acked) every update published so far. */
async function updatesHandled(timeoutMs = 10_000): Promise<void> {
  await waitFor(
    'the presence service to handle every published update',
    async () => {
      const info = await gateway.jsm.consumers.info(
        streams.presenceUpdates().name,
        consumers.presenceUpdates,
      );
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    timeoutMs,
    50,
  );
}

/** Every change event on PRESENCE_CHANGES, in stream order (what conference-core would consume). */
async function changeEvents(): Promise<PresenceChangedV1[]> {
  const stream = streams.presenceChanges();
  const { state } = await gateway.jsm.streams.info(stream.name);
  if (state.messages === 0) return [];
  const reader = await gateway.js.consumers.get(stream.name, {});
  const messages = await reader.consume();
  const events: PresenceChangedV1[] = [];
  for await (const msg of messages) {
    events.push(presenceChangedV1Schema.parse(msg.json()));
    if (msg.info.pending === 0) break;
  }
  await messages.close();
  return events;
}

async function presenceOf(address: string): Promise<IdentityPresence> {
  const { presences } = await rpc.call(presenceRpc.query, { identities: [{ network: 'xmpp', address }] });
  return presences[0]!;
}

describe('presence of one identity with two clients', () => {
  const address = 'Alice@localhost';
  const normalized = 'alice@localhost';

  it('is busy while one client is dnd, online when only the available one is left, offline when both left, and announces only those changes', async () => {
    await report(clientPresence(address, 'phone', 'dnd', 'in a meeting'));
    await waitFor('alice to be busy', async () => (await presenceOf(address)).presence === 'busy');

    await report(clientPresence(address, 'laptop', 'online', 'at my desk'));
    await updatesHandled();
    expect(await presenceOf(address)).toMatchObject({ presence: 'busy', status: 'in a meeting' });

    await report(clientPresence(address, 'phone', 'offline'));
    await waitFor('alice to be online', async () => (await presenceOf(address)).presence === 'online');
    expect(await presenceOf(address)).toMatchObject({ presence: 'online', status: 'at my desk' });

    await report(clientPresence(address, 'laptop', 'offline', 'gone home'));
    await waitFor('alice to be offline', async () => (await presenceOf(address)).presence === 'offline');
    await updatesHandled();

    const events = (await changeEvents()).filter((e) => e.address === normalized);
    expect(events.map((e) => [e.presence, e.status])).toEqual([
      ['busy', 'in a meeting'],
      ['online', 'at my desk'],
      ['offline', 'gone home'],
    ]);
    const times = events.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await presenceOf(address)).toMatchObject({
      network: 'xmpp',
      address,
      presence: 'offline',
      since: events[2]!.occurredAt,
    });
  });

  it('ignores a late or repeated report of a client that has a newer one', async () => {
    const before = (await changeEvents()).length;
    const hourAgo = new Date(Date.now() - 3_600_000);
    const late = clientPresence(address, 'phone', 'dnd', 'old meeting', hourAgo);
    await report(late);
    // The same update again under another de-duplication key, as a gateway retry after the
    // JetStream duplicate window would be.
    await report(late, `${late.id}-retry`);
    await updatesHandled();
    expect((await presenceOf(address)).presence).toBe('offline');
    expect(await changeEvents()).toHaveLength(before);
  });
});

describe('several replicas', () => {
  async function conflictsSoFar(): Promise<number> {
    const metrics = await (await fetch(`${await replicas[0]!.getUrl()}/metrics`)).text();
    return Number(/^parley_presence_revision_conflicts_total (\d+)/m.exec(metrics)?.[1] ?? 0);
  }

  it('keeps every client when two replicas take turns with an out-of-date copy of the identity', async () => {
    const address = 'carol@localhost';
    const [first, second] = replicas.map((app) => app.get(PresenceService));
    const conflictsBefore = await conflictsSoFar();
    // Each replica remembers the revision it last wrote; the other one has moved the entry on since.
    await first!.applyUpdate(clientPresence(address, 'a1', 'away'));
    await second!.applyUpdate(clientPresence(address, 'b1', 'away'));
    await first!.applyUpdate(clientPresence(address, 'a2', 'xa'));
    await second!.applyUpdate(clientPresence(address, 'b2', 'online'));

    const [record] = await replicas[0]!.get(PresenceStore).readMany([presenceKey('xmpp', address)]);
    expect(Object.keys(record!.resources).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect((await presenceOf(address)).presence).toBe('online');
    expect(await conflictsSoFar()).toBeGreaterThanOrEqual(conflictsBefore + 2);
  });
});

describe('a crash between storing and announcing a change', () => {
  it('announces the recorded change, with its recorded id, when the update is delivered again', async () => {
    const address = 'dave@localhost';
    const update = clientPresence(address, 'phone', 'away', 'back soon');
    // The state of a replica that stored the update and its change, then died before publishing.
    const recorded = await replicas[0]!.get(PresenceStore).modify(presenceKey('xmpp', address), (current) => {
      const result = applyPresenceUpdate(current, update, { address, now: Date.now(), newChangeId: uuidv7 });
      return { next: result.record, result: result.change };
    });
    expect(recorded?.presence).toBe('away');

    await report(update); // JetStream redelivers it (here: the gateway publishes it)
    const announced = await waitFor('the recorded change to be announced', async () =>
      (await changeEvents()).find((e) => e.address === address),
    );
    expect(announced).toMatchObject({ id: recorded!.id, presence: 'away', status: 'back soon' });
    await report(update, `${update.id}-again`);
    await updatesHandled();
    expect((await changeEvents()).filter((e) => e.address === address)).toHaveLength(1);
  });
});

describe('presence queries', () => {
  it('answers offline, without a since, for an identity never reported', async () => {
    const { presences } = await rpc.call(presenceRpc.query, {
      identities: [
        { network: 'irc', address: 'nobody@irc.localhost' },
        { network: 'xmpp', address: 'nobody@localhost' },
      ],
    });
    expect(presences).toEqual([
      { network: 'irc', address: 'nobody@irc.localhost', presence: 'offline' },
      { network: 'xmpp', address: 'nobody@localhost', presence: 'offline' },
    ]);
  });

  it('refuses more identities than one request may carry, naming the field', async () => {
    const identities = Array.from({ length: MAX_PRESENCE_QUERY_IDENTITIES + 1 }, (_, i) => ({
      network: 'xmpp' as const,
      address: `u${i}@localhost`,
    }));
    await expect(rpc.call(presenceRpc.query, { identities })).rejects.toMatchObject({
      code: 'validation-failed',
      field: 'identities',
    });
  });

  it('reports the presence bucket in readiness', async () => {
    const ready = await fetch(`${await replicas[0]!.getUrl()}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      checks: [
        { name: 'BusHealthIndicator', ok: true },
        { name: 'PresenceStoreHealthIndicator', ok: true },
      ],
    });
  });
});

describe('pruning the bucket', () => {
  it('deletes the records of identities offline past the retention, keeps the others, and takes new reports for them', async () => {
    const gone = `gone-${uuidv7()}@localhost`;
    const here = `here-${uuidv7()}@localhost`;
    await report(clientPresence(gone, 'laptop', 'online'));
    await report(clientPresence(here, 'laptop', 'online'));
    await updatesHandled();
    await report(clientPresence(gone, 'laptop', 'offline'));
    await updatesHandled();
    const kv = replicas[0]!.get<KV>(PRESENCE_KV);
    const stored = async (address: string) => {
      const entry = await kv.get(presenceKey('xmpp', address));
      return entry?.operation === 'PUT';
    };
    const pruner = replicas[0]!.get(PresencePruner);

    // Within the retention nothing goes.
    await pruner.prune(Date.now());
    expect([await stored(gone), await stored(here)]).toEqual([true, true]);

    // Eight days later (the retention is seven): the offline identity's record goes, the online one stays.
    await pruner.prune(Date.now() + 8 * 24 * 3_600_000);
    expect([await stored(gone), await stored(here)]).toEqual([false, true]);
    expect(await presenceOf(gone)).toEqual({ network: 'xmpp', address: gone, presence: 'offline' });
    expect((await presenceOf(here)).presence).toBe('online');

    // Both replicas take a new report of the pruned identity (their cached copies are out of date).
    await report(clientPresence(gone, 'phone', 'away', 'back soon'));
    await waitFor('the pruned identity to be away', async () => (await presenceOf(gone)).presence === 'away');
    expect(await stored(gone)).toBe(true);
  });
});

describe('presence at scale', () => {
  const IDENTITIES = 10_000;
  const CHANGES = 10;
  const SHOWS: PresenceShow[] = ['online', 'away', 'dnd', 'xa', 'chat', 'offline'];
  const RANK: Record<PresenceShow, [number, AggregatePresence]> = {
    dnd: [0, 'busy'],
    chat: [1, 'online'],
    online: [1, 'online'],
    away: [2, 'away'],
    xa: [3, 'xa'],
    offline: [4, 'offline'],
  };

  it('aggregates 10,000 identities changing 10 times each, whatever order the updates arrive in', async () => {
    // Change k of identity i comes from client `desk` (k even) or `phone` (k odd), one second
    // after change k-1; the updates are then published in a random order, many at a time.
    const base = Date.now() - 60_000;
    const updates: PresenceUpdateV1[] = [];
    for (let i = 0; i < IDENTITIES; i++) {
      for (let k = 0; k < CHANGES; k++) {
        const show = SHOWS[(i * 7 + k * 5) % SHOWS.length]!;
        updates.push(
          clientPresence(
            `bulk${i}@localhost`,
            k % 2 ? 'phone' : 'desk',
            show,
            `s${i}-${k}`,
            new Date(base + k * 1000),
          ),
        );
      }
    }
    for (let j = updates.length - 1; j > 0; j--) {
      const r = Math.floor(Math.random() * (j + 1));
      [updates[j], updates[r]] = [updates[r]!, updates[j]!];
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: 500 }, async () => {
        while (next < updates.length) await report(updates[next++]!);
      }),
    );
    await updatesHandled(120_000);

    // Expected, computed independently: the last report of each client, then the higher rank.
    const expected = (i: number): { presence: AggregatePresence; status?: string } => {
      const desk = CHANGES - 2;
      const phone = CHANGES - 1;
      const [deskRank, deskPresence] = RANK[SHOWS[(i * 7 + desk * 5) % SHOWS.length]!];
      const [phoneRank, phonePresence] = RANK[SHOWS[(i * 7 + phone * 5) % SHOWS.length]!];
      // Equal rank: the later report (phone) gives the status.
      return deskRank < phoneRank
        ? { presence: deskPresence, status: `s${i}-${desk}` }
        : { presence: phonePresence, status: `s${i}-${phone}` };
    };
    const mismatches: string[] = [];
    for (let from = 0; from < IDENTITIES; from += MAX_PRESENCE_QUERY_IDENTITIES) {
      const identities = Array.from(
        { length: Math.min(MAX_PRESENCE_QUERY_IDENTITIES, IDENTITIES - from) },
        (_, j) => ({
          network: 'xmpp' as const,
          address: `bulk${from + j}@localhost`,
        }),
      );
      const { presences } = await rpc.call(presenceRpc.query, { identities });
      presences.forEach((got, j) => {
        const want = expected(from + j);
        if (got.presence !== want.presence || got.status !== want.status) {
          mismatches.push(
            `${got.address}: got ${got.presence}/${got.status}, want ${want.presence}/${want.status}`,
          );
        }
      });
    }
    expect(mismatches.slice(0, 10)).toEqual([]);

    // What a consumer of the change events ends with (latest occurredAt per identity) is the same.
    const latest = new Map<string, PresenceChangedV1>();
    for (const event of await changeEvents()) {
      const seen = latest.get(event.address);
      if (!seen || event.occurredAt > seen.occurredAt) latest.set(event.address, event);
    }
    for (let i = 0; i < IDENTITIES; i++) {
      const want = expected(i);
      const got = latest.get(`bulk${i}@localhost`);
      if ((got?.presence ?? 'offline') !== want.presence) {
        mismatches.push(`bulk${i}@localhost: last change ${got?.presence}, want ${want.presence}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  }, 180_000);
});
