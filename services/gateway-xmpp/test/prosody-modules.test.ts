/**
 * Parley's Prosody modules (deploy/prosody/modules) on the test Prosody, driven as gateway-xmpp
 * drives them (a real component connection, a real user):
 * - mod_parley_dedup: a message the component sends again with the same id — what a gateway's next
 *   process does after a kill landed between the write and its progress record — is dropped by the
 *   server, even on a new connection; a bounced id is forgotten, so the retry of a bounced delivery
 *   is not swallowed;
 * - mod_parley_ack: a user's message the component did not acknowledge — a gateway killed before
 *   publishing it — is handed to the component's next connection, with the same seq; an
 *   acknowledged one is not;
 * - mod_parley_fanout: announced to each component connection; one stanza listing recipients
 *   reaches each of them as a copy with its own id, and mod_parley_dedup still drops a repeated id;
 *   recipients who are offline each find their own copy (id, address) when they come online.
 */
import { randomBytes } from 'node:crypto';
import { component, type Component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createXmppUser,
  holdXmppComponentDomain,
  stillTrueAfter,
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

/** One stanza for mod_parley_fanout to copy to each recipient, with that recipient's id. */
const fanOut = (body: string, recipients: Array<{ jid: string; id: string }>) =>
  xml(
    'message',
    { from: `bot@${domain}`, to: domain, type: 'chat' },
    xml('body', {}, body),
    xml('fanout', { xmlns: 'urn:parley:fanout' }, ...recipients.map((r) => xml('to', r))),
  );

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

describe('mod_parley_ack on the XMPP server', () => {
  it('hands a message the component did not acknowledge to its next connection, and an acknowledged one not', async () => {
    const bot = `conf-${randomBytes(3).toString('hex')}@${domain}`;
    const text = `kept until acknowledged ${randomBytes(3).toString('hex')}`;
    const copies = () =>
      received.filter((s) => s.is('message') && s.attrs.to === bot && s.getChildText('body') === text);
    await alice.sendMessage(bot, text);
    await waitFor('the message at the component', () => copies().length === 1, 10_000);
    const seq = copies()[0]!.attrs['parley-seq'] as string | undefined;
    expect(seq, 'the server numbers what it hands over').toMatch(/^\S+-\d+$/);
    // Killed before publishing it: no ack. The next connection gets it again, with the same seq.
    await cut(link!);
    link = await connectComponent();
    await waitFor('the message handed again to the new connection', () => copies().length === 2, 10_000);
    expect(copies()[1]!.attrs['parley-seq']).toBe(seq);
    // Acknowledged now: the connection after the next gets nothing again.
    await link.send(
      xml('message', { from: domain, to: domain }, xml('ack', { xmlns: 'urn:parley:ack', seqs: seq })),
    );
    await alice.sendMessage(bot, `${text} (after)`);
    await waitFor('a later message', () =>
      received.some((s) => s.attrs.to === bot && s.getChildText('body') === `${text} (after)`),
    );
    await link.send(
      xml(
        'message',
        { from: domain, to: domain },
        xml('ack', {
          xmlns: 'urn:parley:ack',
          seqs: `${seq} ${
            received.find((s) => s.getChildText('body') === `${text} (after)`)!.attrs['parley-seq'] as string
          }`,
        }),
      ),
    );
    // The ack stanza is handled before anything the server reads after it from this connection.
    await link.send(
      xml(
        'message',
        { from: `bot@${domain}`, to: alice.user.jid, type: 'chat', id: `m-${seq}` },
        xml('body', {}, 'marker'),
      ),
    );
    await alice.waitForMessage(`bot@${domain}`, 'marker');
    await cut(link);
    link = await connectComponent();
    await stillTrueAfter('nothing handed again', () => copies().length === 2, 1_000);
  });
});

describe('mod_parley_fanout on the XMPP server', () => {
  it('announces itself to each new component connection', async () => {
    await cut(link!);
    const before = received.length;
    link = await connectComponent();
    const announcement = await waitFor('the announcement', () =>
      received
        .slice(before)
        .find((s) => s.is('message') && s.attrs.from === domain && s.getChild('fanout', 'urn:parley:fanout')),
    );
    expect(Number(announcement.getChild('fanout', 'urn:parley:fanout')!.attrs.max)).toBeGreaterThan(1);
  });

  it('copies one stanza to every recipient it lists, each with its own id; a malformed address is refused alone; a repeated id is dropped', async () => {
    const bob = await XmppTestClient.connect(await createXmppUser('fanout'));
    try {
      const from = `bot@${domain}`;
      const id = `fan-${randomBytes(4).toString('hex')}`;
      await link!.send(
        fanOut('one stanza, two copies', [
          { jid: alice.user.jid, id: `${id}:alice` },
          { jid: 'not@@an address', id: `${id}:malformed` },
          { jid: bob.user.jid, id: `${id}:bob` },
        ]),
      );
      // The malformed address's copy alone is refused, as a bounce the gateway can tell by its id.
      const refused = await waitFor('the malformed copy refused', () =>
        received.find((s) => s.attrs.type === 'error' && s.attrs.id === `${id}:malformed`),
      );
      expect(refused.getChild('error')?.getChild('jid-malformed')).toBeDefined();
      const copyOf = (client: XmppTestClient) =>
        client.waitForStanza(
          'the copy',
          (s) => s.is('message') && s.getChildText('body') === 'one stanza, two copies',
        );
      const [toAlice, toBob] = await Promise.all([copyOf(alice), copyOf(bob)]);
      expect([toAlice.attrs.id, toBob.attrs.id]).toEqual([`${id}:alice`, `${id}:bob`]);
      expect(toAlice.getChild('fanout', 'urn:parley:fanout'), 'the list is not passed on').toBeUndefined();
      // Sent again (a gateway's next process): alice's copy is a repeat, dropped; a new id for bob is not.
      await link!.send(
        fanOut('one stanza, two copies', [
          { jid: alice.user.jid, id: `${id}:alice` },
          { jid: bob.user.jid, id: `${id}:bob-again` },
        ]),
      );
      await bob.waitForStanza('the new copy', (s) => s.attrs.id === `${id}:bob-again`);
      await link!.send(chat(`${id}-marker`, alice.user.jid, 'fan-out marker'));
      await alice.waitForMessage(from, 'fan-out marker');
      expect(alice.messagesFrom(from).filter((b) => b === 'one stanza, two copies')).toHaveLength(1);
    } finally {
      await bob.stop();
    }
  });

  it("keeps each offline recipient's own copy (its id, its address) for when they come online", async () => {
    // The module routes one stanza, changing `to` and `id` per recipient (as mod_muc does): the
    // offline storage must have kept each recipient's copy as it was, not the stanza as it ended.
    const [carol, dave] = await Promise.all([createXmppUser('fanout-off'), createXmppUser('fanout-off')]);
    const id = `off-${randomBytes(4).toString('hex')}`;
    const body = 'while you were away';
    await link!.send(
      fanOut(body, [
        { jid: carol.jid, id: `${id}:carol` },
        { jid: dave.jid, id: `${id}:dave` },
        { jid: alice.user.jid, id: `${id}:alice` },
      ]),
    );
    // alice is online and last in the list: once she has hers, the offline copies were stored.
    await alice.waitForStanza('the online copy', (s) => s.attrs.id === `${id}:alice`);
    for (const [user, name] of [
      [carol, 'carol'],
      [dave, 'dave'],
    ] as const) {
      const client = await XmppTestClient.connect(user);
      try {
        const copy = await client.waitForStanza(
          `${name}'s stored copy`,
          (s) => s.is('message') && s.getChildText('body') === body,
        );
        expect({ id: copy.attrs.id, to: copy.attrs.to?.split('/')[0] }).toEqual({
          id: `${id}:${name}`,
          to: user.jid,
        });
        await stillTrueAfter(
          `${name} to have that one copy only`,
          () => client.messagesFrom(`bot@${domain}`).length === 1,
          500,
        );
      } finally {
        await client.stop();
      }
    }
  });
});
