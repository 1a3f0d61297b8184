/**
 * The outbound partition leases of a gateway shared out by conference (ADR 0006), against a real
 * NATS server: processes share the partitions, a stopped one's are taken at once, a dead one's once
 * its leases expired, and a holder whose lease was taken stops consuming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamBus } from '@parley/bus';
import { inboundPartitions } from '@parley/contracts';
import { testEnv, waitFor } from '@parley/testing';
import { PartitionLeases, openGatewayLeasesBucket } from '../src/partition-leases.js';

const ALL = inboundPartitions();

/** A process's leases, with the partitions it consumes as its hooks report them. */
async function startProcess(bus: JetStreamBus) {
  const consuming = new Set<number>();
  const leases = new PartitionLeases(await openGatewayLeasesBucket(bus), 'irc', ALL, {
    acquired: async (partition) => {
      expect(consuming.has(partition), `partition ${partition} consumed twice`).toBe(false);
      consuming.add(partition);
    },
    released: async (partition) => {
      consuming.delete(partition);
    },
  });
  await leases.start();
  return { leases, consuming };
}

describe('partition leases in NATS KV', () => {
  const buses: JetStreamBus[] = [];
  const running: PartitionLeases[] = [];
  const connect = async () => {
    const bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'leases-test' });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    await (await connect()).ensureStreams();
  });

  afterAll(async () => {
    for (const leases of running) await leases.stop().catch(() => undefined);
    for (const bus of buses) await bus.close().catch(() => undefined);
  });

  it('shares the partitions between two processes, never one partition to both, and gives a stopped one’s back at once', async () => {
    const a = await startProcess(await connect());
    running.push(a.leases);
    expect(a.leases.partitions).toEqual(ALL);
    const b = await startProcess(await connect());
    running.push(b.leases);
    await waitFor('each process to hold half the partitions', () =>
      a.consuming.size === ALL.length / 2 && b.consuming.size === ALL.length / 2 ? true : null,
    );
    expect([...a.consuming, ...b.consuming].sort((x, y) => x - y)).toEqual(ALL);
    expect(b.leases.partitions.every((p) => b.leases.holds(p) && !a.leases.holds(p))).toBe(true);

    await a.leases.stop();
    expect(a.consuming.size).toBe(0);
    await waitFor('the other process to hold every partition', () =>
      b.consuming.size === ALL.length ? true : null,
    );
    await b.leases.stop();
  });

  it('takes a dead process’s partitions over once its leases expired', async () => {
    const doomedBus = await connect();
    const doomed = await startProcess(doomedBus);
    running.push(doomed.leases);
    expect(doomed.leases.partitions).toEqual(ALL);
    // Its connection gone (as with SIGKILL): nothing is renewed or given back.
    await doomedBus.close();
    const survivor = await startProcess(await connect());
    running.push(survivor.leases);
    expect(survivor.consuming.size, 'nothing taken while the leases live').toBe(0);
    await waitFor('the survivor to hold every partition', () =>
      survivor.consuming.size === ALL.length ? true : null,
    );
    await waitFor('the dead process to count none of them as held', () =>
      ALL.every((p) => !doomed.leases.holds(p)) ? true : null,
    );
    await survivor.leases.stop();
  });

  it('stops consuming a partition whose lease another process took', async () => {
    const bus = await connect();
    const holder = await startProcess(bus);
    running.push(holder.leases);
    const kv = await openGatewayLeasesBucket(bus);
    // The lease taken behind its back (as if it had expired while the holder stalled).
    await kv.delete('irc.p.3');
    await kv.create('irc.p.3', 'someone-else');
    await waitFor('the holder to stop consuming partition 3', () =>
      !holder.consuming.has(3) && !holder.leases.holds(3) ? true : null,
    );
    expect(holder.consuming.size).toBe(ALL.length - 1);
    await kv.put('irc.p.3', 'someone-else'); // still alive
    await holder.leases.stop();
    expect((await kv.get('irc.p.3'))?.string(), 'a lease it does not hold is not deleted').toBe(
      'someone-else',
    );
  });
});
