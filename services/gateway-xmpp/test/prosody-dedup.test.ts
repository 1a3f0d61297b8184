/**
 * deploy/prosody/modules/mod_parley_dedup.lua on the test Prosody, driven as gateway-xmpp drives it
 * (a real component connection, a real user): a message the component sends again with the same id
 * — what a gateway's next process does after a kill landed between the write and its progress
 * record — is dropped by the server, even on a new connection; a bounced id is forgotten, so the
 * retry of a bounced delivery is not swallowed.
 */
import { randomBytes } from 'node:crypto';
import { component, type Component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createXmppUser,
  holdXmppComponentDomain,
  testEnv,
  waitFor,
  xml,
  XmppTestClient,
} from '@parley/testing';

let release: () => Promise<void>;
let domain: string;
let alice: XmppTestClient;
/** The component's current connection, and every stanza it received on any connection. */
let link: Component | undefined;
const received: Element[] = [];

async function connectComponent(): Promise<Component> {
  const { host, componentPort, componentSecret } = testEnv.xmpp();
  // The server may not have seen the last connection's end yet: it refuses a second one (conflict),
  // so each attempt is a new client.
  return waitFor(
    'the component connection',
    async () => {
      const xmpp = component({
        service: `xmpp://${host}:${componentPort}`,
        domain,
        password: componentSecret,
      });
      xmpp.reconnect.stop();
      xmpp.on('error', () => undefined);
      xmpp.on('stanza', (stanza: Element) => received.push(stanza));
      return xmpp.start().then(
        () => xmpp,
        () => undefined,
      );
    },
    10_000,
    200,
  );
}

/** Ends the component connection as a killed process does: the socket closes, no stream end. */
async function cut(xmpp: Component): Promise<void> {
  const closed = new Promise((resolve) => xmpp.socket?.once('close', resolve));
  xmpp.socket?.destroy();
  await closed;
}

const chat = (id: string, to: string, body: string) =>
  xml('message', { from: `bot@${domain}`, to, type: 'chat', id }, xml('body', {}, body));

beforeAll(async () => {
  release = await holdXmppComponentDomain();
  domain = process.env.PARLEY_XMPP_COMPONENT_DOMAIN!;
  alice = await XmppTestClient.connect(await createXmppUser('dedup'));
  link = await connectComponent();
});

afterAll(async () => {
  await link?.stop().catch(() => undefined);
  await alice?.stop();
  await release?.();
});

describe('mod_parley_dedup on the XMPP server', () => {
  it('drops a delivery the component sends again with the same id, also from a new connection', async () => {
    const id = `dlv-${randomBytes(4).toString('hex')}`;
    const from = `bot@${domain}`;
    await link!.send(chat(id, alice.user.jid, 'hello once'));
    await alice.waitForMessage(from, 'hello once');
    // The gateway is killed; its next process sends the delivery again on its own connection.
    await cut(link!);
    link = await connectComponent();
    await link.send(chat(id, alice.user.jid, 'hello once'));
    await link.send(chat(`${id}-next`, alice.user.jid, 'the next delivery'));
    // One stream is handled in order: had the repeat been let through, it would be here already.
    await alice.waitForMessage(from, 'the next delivery');
    expect(alice.messagesFrom(from)).toEqual(['hello once', 'the next delivery']);
  });

  it('forgets an id the server bounced, so a retry of a bounced delivery is answered again', async () => {
    const id = `dlv-${randomBytes(4).toString('hex')}`;
    const nobody = `nobody-${randomBytes(3).toString('hex')}@${testEnv.xmpp().domain}`;
    const bounces = () =>
      received.filter((s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === id);
    await link!.send(chat(id, nobody, 'to nobody'));
    await waitFor('the first bounce', () => bounces().length === 1, 10_000);
    await link!.send(chat(id, nobody, 'to nobody'));
    await waitFor('the retry to bounce too (not dropped as a repeat)', () => bounces().length === 2, 10_000);
    expect(bounces().map((s) => s.getChild('error')?.children.map((c) => (c as Element).name)[0])).toEqual([
      'service-unavailable',
      'service-unavailable',
    ]);
  });
});
