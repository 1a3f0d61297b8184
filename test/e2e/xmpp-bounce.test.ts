/**
 * XMPP bounces are not dropped: a delivery the XMPP server refuses after accepting it comes back as
 * `<message type="error">` with the delivery id as its stanza id; gateway-xmpp keeps it (KV bucket
 * `delivery_progress`) and sends it again with backoff, and after the last attempt dead-letters it
 * with the server's reason. Real Prosody: a participant whose account does not exist yet
 * (`service-unavailable`) and one on a domain the server cannot reach (s2s is off: `not-allowed`).
 * A bounce that reaches a gateway process other than the one that sent the delivery (the sender
 * died or was replaced first: a remote server can take minutes to bounce) is retried too.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Kvm } from '@nats-io/kv';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  HEADERS,
  conferencesRpc,
  dlqStream,
  kvBuckets,
  streams,
  subjects,
  type ImDeliveryV1,
} from '@parley/contracts';
import {
  createXmppUser,
  holdXmppComponentDomain,
  newXmppUser,
  registerXmppUser,
  serviceTestEnv,
  startTestService,
  testEnv,
  waitFor,
  XmppTestClient,
  xml,
} from '@parley/testing';
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';
import { AppModule as XmppGatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadXmppConfig } from '../../services/gateway-xmpp/src/config.js';

/** Five attempts after the first send, 15 s in all: then dead-lettered. */
const RETRY_MS = '1000,2000,3000,4000,5000';

describe('an XMPP delivery bounced by the server', () => {
  let releaseDomain: (() => Promise<void>) | undefined;
  const apps: NestFastifyApplication[] = [];
  let rpc: RpcClient;
  let bus: JetStreamBus;
  const clients: XmppTestClient[] = [];
  const ownerId = `owner-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    releaseDomain = await holdXmppComponentDomain();
    apps.push(
      await startTestService(
        'conference-core',
        CoreModule.forRoot(loadCoreConfig(serviceTestEnv('conference-core'))),
      ),
    );
    rpc = apps[0]!.get(RpcClient);
    const xmppConfig = loadXmppConfig(
      serviceTestEnv('gateway-xmpp', { PARLEY_GATEWAY_BOUNCE_RETRY_MS: RETRY_MS }),
    );
    apps.push(await startTestService('gateway-xmpp', XmppGatewayModule.forRoot(xmppConfig)));
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'xmpp-bounce-test' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    for (const app of apps.reverse()) await app.close();
    await bus?.close();
    await releaseDomain?.();
  });

  async function startConference(name: string, ...addresses: string[]): Promise<string> {
    const conference = await rpc.call(conferencesRpc.create, { ownerId, name });
    const added = await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: conference.id,
      participants: addresses.map((address) => ({ network: 'xmpp' as const, address })),
    });
    expect(added.errors).toEqual([]);
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId: conference.id });
    return conference.id;
  }

  /** Bounced deliveries the gateway keeps for a retry. */
  async function keptBounces(): Promise<number> {
    const kv = await new Kvm(bus.nc).open(kvBuckets.deliveryProgress());
    let count = 0;
    for await (const _key of await kv.keys('r.xmpp.>')) count++;
    return count;
  }

  /**
   * An address whose account does not exist yet (deliveries to it bounce), and the step that
   * creates the account and logs in.
   */
  function lateAccount(): { jid: string; register(): Promise<XmppTestClient> } {
    const user = newXmppUser('late');
    return {
      jid: user.jid,
      async register() {
        await registerXmppUser(user);
        const client = await XmppTestClient.connect(user);
        clients.push(client);
        return client;
      },
    };
  }

  it('sends it again until the recipient can take it, and they get it once', async () => {
    const late = lateAccount();
    const conferenceId = await startConference('Late account', late.jid);
    // The invitation bounces (no such user yet) and is kept for the next attempt.
    await waitFor(
      'the bounced invitation to be kept for a retry',
      async () => (await keptBounces()) > 0,
      15_000,
    );
    const client = await late.register();
    const botJid = `${conferenceId}@${testEnv.xmpp().componentDomain}`;
    await client.waitForMessage(botJid, /^You are invited to the conference "Late account"/, 20_000);
    await waitFor('the retried delivery to be forgotten', async () => (await keptBounces()) === 0, 15_000);
    expect(client.messagesFrom(botJid).filter((m) => m.startsWith('You are invited'))).toHaveLength(1);
  }, 60_000);

  it('retries only the copy that bounced when one stanza carried the message to several recipients', async () => {
    // The test server copies fan-outs (mod_parley_fanout): both invitations leave as one stanza.
    const present = await createXmppUser('present');
    const presentClient = await XmppTestClient.connect(present);
    clients.push(presentClient);
    const late = lateAccount();
    const conferenceId = await startConference('Two invitees', present.jid, late.jid);
    const botJid = `${conferenceId}@${testEnv.xmpp().componentDomain}`;
    const invited = /^You are invited to the conference "Two invitees"/;
    await presentClient.waitForMessage(botJid, invited, 20_000);
    await waitFor(
      'the late invitee’s copy to be kept for a retry',
      async () => (await keptBounces()) > 0,
      15_000,
    );
    const lateClient = await late.register();
    await lateClient.waitForMessage(botJid, invited, 20_000);
    await waitFor('the retried copy to be forgotten', async () => (await keptBounces()) === 0, 15_000);
    expect(lateClient.messagesFrom(botJid).filter((m) => invited.test(m))).toHaveLength(1);
    expect(
      presentClient.messagesFrom(botJid).filter((m) => invited.test(m)),
      'not sent again',
    ).toHaveLength(1);
  }, 60_000);

  it('retries a bounce that reaches a gateway process other than the one that sent the delivery', async () => {
    const user = await createXmppUser('bounced-later');
    const client = await XmppTestClient.connect(user);
    clients.push(client);
    const conferenceId = await startConference('Bounced later', user.jid);
    const botJid = `${conferenceId}@${testEnv.xmpp().componentDomain}`;
    const invited = /^You are invited to the conference "Bounced later"/;
    await client.waitForMessage(botJid, invited, 20_000);
    const stanza = client.received.find(
      (s) => s.attrs.from === botJid && invited.test(s.getChildText('body') ?? ''),
    );
    const deliveryId = stanza!.attrs.id as string;

    // The process that sent it is replaced by a new one, which knows nothing of the delivery.
    await apps.pop()!.close();
    const xmppConfig = loadXmppConfig(
      serviceTestEnv('gateway-xmpp', { PARLEY_GATEWAY_BOUNCE_RETRY_MS: RETRY_MS }),
    );
    apps.push(await startTestService('gateway-xmpp', XmppGatewayModule.forRoot(xmppConfig)));

    // The error stanza a server sends back for it, carrying the delivery id (as Prosody routes it).
    await client.send(
      xml(
        'message',
        { to: botJid, type: 'error', id: deliveryId },
        xml(
          'error',
          { type: 'cancel' },
          xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }),
        ),
      ),
    );
    await waitFor(
      'the bounced invitation to be sent again',
      () => client.messagesFrom(botJid).filter((m) => invited.test(m)).length >= 2,
      15_000,
    );
    await waitFor('the retried delivery to be forgotten', async () => (await keptBounces()) === 0, 15_000);
  }, 60_000);

  it("dead-letters it with the server's reason after the last attempt", async () => {
    const jid = `nobody-${randomBytes(3).toString('hex')}@unreachable.example`;
    const conferenceId = await startConference('Unreachable', jid);
    const dead = await waitFor(
      `the invitation to ${jid} to be dead-lettered`,
      async () => {
        const message = await bus.jsm.streams
          .getMessage(dlqStream().name, { last_by_subj: subjects.dlq(streams.imOutbound().name) })
          .catch(() => null);
        const delivery = message?.json<ImDeliveryV1>();
        return delivery?.to === jid ? { delivery, reason: message!.header.get(HEADERS.dlqReason) } : null;
      },
      40_000,
      200,
    );
    expect(dead.delivery).toMatchObject({ conferenceId, kind: 'message', to: jid });
    expect(dead.reason).toMatch(/^bounced 6 times by xmpp: not-allowed/);
  }, 60_000);
});
