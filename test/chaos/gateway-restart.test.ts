/**
 * Chaos: gateway-xmpp killed with SIGKILL after the XMPP server accepted a fan-out delivery. The
 * next gateway process gets the fan-out again and must not send it a second time: the recipients
 * served are in the KV bucket `delivery_progress` (ADR 0005). Two windows, each held open by a
 * test-only hold so the kill lands in it every time:
 * - before JetStream got the fan-out's ack (PARLEY_TEST_GATEWAY_HOLD_BEFORE_ACK_MS): the progress
 *   is always written before the ack;
 * - right after the stanzas were written, before anything else of the fan-out ran
 *   (PARLEY_TEST_GATEWAY_HOLD_AFTER_SEND_MS): the progress is written in the step that wrote them
 *   (NetworkAdapter.deliver's onWritten), or, when the kernel took them only later (a full socket
 *   buffer: Prosody busy), in the step their send resolved. Recorded only after the sends
 *   resolved, a kill there made the next process send the message again (the chaos suite: 14 of 85
 *   `kill -9 gateway-xmpp`); the kit's progress-after-send test checks both steps' records.
 *
 * conference-core runs in this process; the gateway runs as its own process (built dist), with
 * real XMPP users on the shared Prosody (this file holds one of its component domains).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JetStreamBus, RpcClient } from '@parley/bus';
import { conferencesRpc, consumers, streams, type ImDeliveryV2 } from '@parley/contracts';
import { DeliveryProgressStore, openDeliveryProgressBucket } from '@parley/gateway-kit';
import {
  createXmppUser,
  holdXmppComponentDomain,
  serviceTestEnv,
  spawnService,
  startTestService,
  testEnv,
  waitFor,
  XmppTestClient,
  type ServiceProcess,
} from '@parley/testing';
import { freePort } from '../deploy/helpers.js';
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';

const HOLD_MS = 60_000;

describe('gateway-xmpp killed between the network accepting a delivery and its ack', () => {
  let releaseDomain: (() => Promise<void>) | undefined;
  let core: NestFastifyApplication;
  let rpc: RpcClient;
  let bus: JetStreamBus;
  const gateways: ServiceProcess[] = [];
  const clients: XmppTestClient[] = [];

  /**
   * Starts a gateway process and waits until its component is online (/health/ready). It logs at
   * `info`, so that a failure shows what the processes around the kill did.
   */
  const startGateway = async (extra: Record<string, string> = {}) => {
    const port = await freePort();
    const gateway = spawnService('gateway-xmpp', {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_LOG_LEVEL: 'info',
      ...extra,
    });
    gateways.push(gateway);
    await waitFor(
      `gateway-xmpp (pid ${gateway.child.pid}) to be ready`,
      async () => {
        if (gateway.child.exitCode !== null) throw new Error(`gateway-xmpp exited: ${gateway.stderr()}`);
        return (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok;
      },
      30_000,
      100,
    );
    return gateway;
  };

  beforeAll(async () => {
    releaseDomain = await holdXmppComponentDomain();
    core = await startTestService(
      'conference-core',
      CoreModule.forRoot(loadCoreConfig(serviceTestEnv('conference-core'))),
    );
    rpc = core.get(RpcClient);
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'gateway-restart-test' });
  });

  afterAll(async () => {
    for (const { child, exited } of gateways) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited();
    }
    await Promise.all(clients.map((c) => c.stop()));
    await core?.close();
    await bus?.close();
    await releaseDomain?.();
  });

  /**
   * Sets up a conference of three joined XMPP users, starts a gateway holding fan-outs with
   * `hold`, has alice write, kills the gateway with SIGKILL once bob and carol got the message,
   * starts an ordinary one and checks that they got it exactly once.
   */
  const killedWhileHolding = async (window: string, hold: Record<string, string>) => {
    const users = await Promise.all(['alice', 'bob', 'carol'].map((name) => createXmppUser(name)));
    const [alice, bob, carol] = await Promise.all(
      users.map((user) => XmppTestClient.connect(user, { autoAcceptSubscriptions: true })),
    );
    clients.push(alice!, bob!, carol!);
    const ownerId = `owner-${randomBytes(4).toString('hex')}`;
    const conference = await rpc.call(conferencesRpc.create, { ownerId, name: 'Gateway crash' });
    await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: conference.id,
      participants: users.map((u) => ({ network: 'xmpp' as const, address: u.jid })),
    });
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId: conference.id });
    const botJid = `${conference.id}@${testEnv.xmpp().componentDomain}`;

    // Set-up with an ordinary gateway: everyone invited and joined.
    const first = await startGateway();
    for (const client of [alice!, bob!, carol!]) {
      await client.waitForMessage(botJid, /^You are invited/, 20_000);
      await client.sendMessage(botJid, '/join');
      await client.waitForMessage(botJid, /^You joined/, 20_000);
    }
    const outbound = () =>
      bus.jsm.consumers.info(streams.imOutbound().name, consumers.gatewayOutbound('xmpp'));
    await waitFor('the first gateway to have acked every delivery', async () => {
      const info = await outbound();
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    first.child.kill('SIGTERM');
    await first.exited();

    // A gateway that holds every fan-out in the window under test: the kill lands in it.
    const holding = await startGateway(hold);
    const text = `accepted once, killed ${window}`;
    await alice!.sendMessage(botJid, text);
    const relayed = `[${users[0]!.username} (xmpp)] ${text}`;
    await bob!.waitForMessage(botJid, relayed, 20_000);
    await carol!.waitForMessage(botJid, relayed, 20_000);
    const atKill = await outbound();
    expect(atKill.num_ack_pending, 'the fan-out is still unacked when the gateway dies').toBeGreaterThan(0);
    // What the next process will read: both recipients recorded while the fan-out is held. (The
    // record leaves before the hold begins; under the whole suite's load nats-server may take a
    // while to store it, and a kill before it is stored is the known window, not what this tests.)
    const held = (await bus.jsm.streams.getMessage(streams.imOutbound().name, {
      seq: atKill.delivered.stream_seq,
    }))!.json<ImDeliveryV2>();
    const progress = new DeliveryProgressStore(await openDeliveryProgressBucket(bus), 'xmpp');
    await waitFor(
      `bob and carol recorded as served in the progress of ${held.deliveryId}`,
      async () => (await progress.served(held.deliveryId, held.recipients.length)).size === 2,
      20_000,
      50,
    );
    holding.child.kill('SIGKILL');
    await holding.exited();

    // The next process replays everything after the ack floor at once (its predecessor died with the
    // fan-out in hand) and acks it; the delivery progress tells it the recipients were served.
    const restarted = await startGateway();
    const heldSeq = atKill.delivered.stream_seq;
    await waitFor(
      'the restarted gateway to have handled and acked the held fan-out',
      async () => {
        const info = await outbound();
        return info.num_pending === 0 && info.num_ack_pending === 0 && info.ack_floor.stream_seq >= heldSeq
          ? true
          : null;
      },
      60_000,
      200,
    );
    /** The killed and the restarted gateway's last log lines, shown when an assertion fails. */
    const around = () =>
      [holding, restarted]
        .map(
          (g, i) => `${['killed', 'restarted'][i]} gateway:\n${g.logs().split('\n').slice(-40).join('\n')}`,
        )
        .join('\n');
    // A later message proves the lane moved on; the first one still arrived exactly once.
    await alice!.sendMessage(botJid, `after the restart, killed ${window}`);
    for (const client of [bob!, carol!]) {
      await client.waitForMessage(
        botJid,
        `[${users[0]!.username} (xmpp)] after the restart, killed ${window}`,
        20_000,
      );
      expect(
        client.messagesFrom(botJid).filter((m) => m === relayed),
        `${client.user.username} got it as often as this (gateways' logs below)\n${around()}`,
      ).toHaveLength(1);
    }
    // The component domain is free for the next case.
    for (const { child, exited } of gateways) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited();
    }
  };

  it('does not send the delivery again from the restarted process', async () => {
    await killedWhileHolding('before the ack', { PARLEY_TEST_GATEWAY_HOLD_BEFORE_ACK_MS: String(HOLD_MS) });
  }, 150_000);

  it('does not send the delivery again when killed right after writing it', async () => {
    await killedWhileHolding('right after the write', {
      PARLEY_TEST_GATEWAY_HOLD_AFTER_SEND_MS: String(HOLD_MS),
    });
  }, 150_000);
});
