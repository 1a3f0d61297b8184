/**
 * Chaos: conference-core killed with SIGKILL while it relays a conversation, then restarted.
 * The product promises that a crash of any service loses no accepted message and delivers none
 * twice; this file checks it for the relay itself. The built service runs as its own process (as
 * in production); the test plays the XMPP gateway without Prosody: it publishes inbound events to
 * IM_INBOUND and reads every delivery from IM_OUTBOUND and every fact from CONF_EVENTS.
 *
 * JetStream drops a republish only inside its 2-minute duplicate window (Nats-Msg-Id), so the
 * test never assumes duplicates away: it reads every stored delivery and counts them by body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { JetStreamBus, RpcClient } from '@parley/bus';
import { spawnServiceReady, waitFor, type ServiceProcess } from '@parley/testing';
import {
  chatText,
  expectRelayedExactlyOnceInOrder,
  startChaosConference,
  waitUntilSettled,
  ChaosRig,
} from './relay-harness.js';

const ownerId = 'chaos-owner';
const alice = 'alice@chaos.example';
const bob = 'bob@chaos.example';
/** A third participant who only listens: the one who sees both senders interleaved. */
const carol = 'carol@chaos.example';
const PER_SENDER = 150;
/** Kill once this many chat deliveries were seen: mid-conversation, far from both ends. */
const KILL_AFTER_DELIVERIES = 50;

describe('conference-core killed with SIGKILL mid-conversation', () => {
  let rig: ChaosRig;
  let rpc: RpcClient;
  let bus: JetStreamBus;
  let db: pg.Client;
  let children: ServiceProcess[];
  let followers: Array<{ stop: () => Promise<void> }>;

  async function startAndWaitReady() {
    const started = await spawnServiceReady('conference-core', rpc);
    children.push(started);
    return started;
  }

  beforeAll(async () => {
    rig = await ChaosRig.open('chaos-test');
    ({ rpc, bus, db, children, followers } = rig);
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('relays every message to every other participant exactly once, in one order, across a kill -9', async () => {
    const first = await startAndWaitReady();

    const conference = await startChaosConference(rpc, bus, ownerId, 'Chaos relay', [alice, bob, carol]);
    const { deliveries, events, perRecipient, publishInbound } = conference;
    followers.push(deliveries, events);

    // Two senders at once, each in its own order; the kill happens while the relay is busy.
    const sent: Record<string, string[]> = {
      [alice]: Array.from({ length: PER_SENDER }, (_, i) => `chaos alice ${i + 1}`),
      [bob]: Array.from({ length: PER_SENDER }, (_, i) => `chaos bob ${i + 1}`),
    };
    const sending = Promise.all(
      [alice, bob].map(async (from) => {
        for (const body of sent[from]!) await publishInbound(from, body);
      }),
    );
    const chatDeliveries = () => perRecipient().filter((d) => chatText(d) !== null);
    await waitFor(
      `${KILL_AFTER_DELIVERIES} chat deliveries before the kill`,
      () => chatDeliveries().length >= KILL_AFTER_DELIVERIES,
      20_000,
      5,
    );
    first.child.kill('SIGKILL');
    await first.exited();
    expect(first.child.signalCode).toBe('SIGKILL');
    const deliveredAtKill = chatDeliveries().length;
    await sending;
    // The kill must really have interrupted the conversation: 600 deliveries are due in all.
    expect(deliveredAtKill).toBeLessThan(2 * 2 * PER_SENDER);

    await startAndWaitReady();
    // The restarted replica takes the partition over: it restarts the consumer after its ack floor,
    // so the message in hand at the kill comes again at once, before anything newer.
    await waitFor(
      'carol to have received the last message of both senders',
      () => {
        const texts = new Set(
          perRecipient()
            .filter((d) => d.to === carol)
            .map(chatText),
        );
        return texts.has(`chaos alice ${PER_SENDER}`) && texts.has(`chaos bob ${PER_SENDER}`);
      },
      45_000,
      50,
    );
    await waitUntilSettled(bus, db, [conference]);
    expectRelayedExactlyOnceInOrder(conference, sent);
  }, 90_000);
});
