/**
 * A restart of the XMPP server (SIGTERM, then a new process on the same data) with Parley's
 * Prosody modules (deploy/prosody/modules) and gateway-xmpp's adapter on a Prosody of its own:
 * - what the gateway wrote to the server before it learned of the stop reaches its user: before it
 *   closes its users' sessions, the stopping server ends its stream to the component, reads on until
 *   the gateway (told by that end) ends its own, and lets the users' connections write what was
 *   routed to them; before, the process exited with the gateway's last stanzas unread in its socket
 *   or unwritten in a user's, which the gateway had counted as delivered (docs/reliability.md);
 * - the stopping server keeps, for its next process, the ids of the deliveries it saw
 *   (mod_parley_dedup: a delivery sent again after the restart is still dropped) and the users'
 *   messages the gateway had not acknowledged (mod_parley_ack: handed to its next connection).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayPort, InboundDraft } from '@parley/gateway-kit';
import type { ImDeliveryV1 } from '@parley/contracts';
import { createXmppUser, stillTrueAfter, waitFor, XmppTestClient, type XmppTestUser } from '@parley/testing';
import { XmppAdapter } from '../../services/gateway-xmpp/src/xmpp/xmpp-adapter.js';
import { freePort, startProsody, stop, type Spawned } from '../deploy/helpers.js';

const CONFERENCE = `stop-${randomBytes(3).toString('hex')}`;

describe('an XMPP server restarting under Parley’s component', () => {
  let dir: string;
  let ports: { c2sPort: number; componentPort: number; secret: string };
  let prosody: Spawned;
  let configFile: string;
  let adapter: XmppAdapter;
  let alice: XmppTestUser;
  const clients: XmppTestClient[] = [];
  /** What the adapter reported inbound, and whether it may acknowledge (see `port`). */
  const inbound: InboundDraft[] = [];
  /** The inbound messages whose body is `body`, in arrival order. */
  const inboundWith = (body: string) =>
    inbound.filter((event) => event.kind === 'message' && event.body === body);
  let acknowledging = true;

  const port: GatewayPort = {
    inbound: (event) => void inbound.push(event),
    afterInbound: (done) => {
      if (acknowledging) done();
    },
    presence: () => undefined,
    bounced: async () => undefined,
    bot: async () => null,
    joinableBy: async () => [],
    holds: () => true,
  };

  const delivery = (deliveryId: string): ImDeliveryV1 => ({
    id: deliveryId,
    occurredAt: new Date().toISOString(),
    deliveryId,
    network: 'xmpp',
    conferenceId: CONFERENCE,
    botName: 'Stop test (parley)',
    to: alice.jid,
    kind: 'message',
    body: deliveryId,
  });

  const startServer = async () => {
    const started = await startProsody(dir, ports);
    prosody = started.server;
    configFile = started.configFile;
  };

  /** SIGTERM, then a new process on the same data; the adapter's reconnect finds it. */
  const restartServer = async () => {
    await stop(prosody);
    await startServer();
    await waitFor('the adapter online again', () => adapter.isOnline, 20_000, 100);
  };

  const connectAlice = async () => {
    const client = await XmppTestClient.connect(alice, { c2sPort: ports.c2sPort });
    clients.push(client);
    return client;
  };

  /** Bodies of the bot's messages every connection of alice's received, in order. */
  const heard = () => clients.flatMap((client) => client.messagesFrom(`${CONFERENCE}@conf.localhost`));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'parley-prosody-stop-'));
    ports = {
      c2sPort: await freePort(),
      componentPort: await freePort(),
      secret: randomBytes(12).toString('hex'),
    };
    await startServer();
    alice = await createXmppUser('alice', { domain: 'localhost', prosodyConfig: configFile });
    adapter = new XmppAdapter(
      {
        host: '127.0.0.1',
        port: ports.componentPort,
        domain: 'conf.localhost',
        secret: ports.secret,
        serviceName: 'Parley stop test',
      },
      port,
    );
    await adapter.connect();
  });

  afterAll(async () => {
    await adapter?.stop();
    for (const client of clients) await client.stop();
    await stop(prosody);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers everything the gateway wrote before it learned of the stop', async () => {
    await connectAlice();
    // The gateway writes one delivery a turn, as fast as it can, until a write is refused because
    // the server ended the stream; every write that went through is one the gateway counts as sent.
    const written: string[] = [];
    const writing = (async () => {
      for (let n = 0; n < 20_000; n++) {
        const id = `before-stop-${n}`;
        try {
          await adapter.deliver(delivery(id));
        } catch {
          return;
        }
        written.push(id);
        await nextTurn();
      }
    })();
    await waitFor('the first deliveries written', () => written.length >= 50 || undefined, 10_000, 5);
    await stop(prosody);
    await writing;
    expect(written.length).toBeLessThan(20_000); // the stop was noticed by the writer
    await startServer();
    await waitFor('the adapter online again', () => adapter.isOnline, 20_000, 100);
    // Whatever alice's first connection did not get waits in her offline storage.
    await connectAlice();
    const missing = () => {
      const got = new Set(heard());
      return written.filter((id) => !got.has(id));
    };
    await waitFor(
      `all ${written.length} written deliveries heard`,
      () => missing().length === 0,
      20_000,
      200,
    ).catch(() => {
      throw new Error(
        `${missing().length} of ${written.length} written deliveries never reached alice: ${missing().slice(0, 5).join(', ')}…`,
      );
    });
    const twice = heard().filter((id, i, all) => all.indexOf(id) !== i);
    expect(twice).toEqual([]);
  });

  it('still drops a delivery sent again after the restart (the ids are kept)', async () => {
    for (const earlier of clients.splice(0)) await earlier.stop();
    const client = await connectAlice();
    await adapter.deliver(delivery('kept-id'));
    await client.waitForMessage(`${CONFERENCE}@conf.localhost`, 'kept-id');
    await restartServer();
    const after = await connectAlice();
    // What a gateway's next process does after a kill that came before its progress record.
    await adapter.deliver(delivery('kept-id'));
    await adapter.deliver(delivery('kept-id-marker'));
    await after.waitForMessage(`${CONFERENCE}@conf.localhost`, 'kept-id-marker');
    await stillTrueAfter(
      'kept-id heard once',
      () => heard().filter((id) => id === 'kept-id').length === 1,
      1_000,
    );
  });

  it('hands a user’s message the gateway had not acknowledged to its connection after the restart', async () => {
    const client = await connectAlice();
    acknowledging = false; // as a gateway that had not published it yet
    await client.sendMessage(`${CONFERENCE}@conf.localhost`, 'not acknowledged');
    const first = await waitFor('the message at the gateway', () => inboundWith('not acknowledged')[0]);
    await restartServer();
    acknowledging = true;
    const again = await waitFor('the message at the gateway again', () => inboundWith('not acknowledged')[1]);
    // The same event: the gateway's inbound id makes the repeat harmless.
    expect(again.id).toBe(first.id);
  });
});
