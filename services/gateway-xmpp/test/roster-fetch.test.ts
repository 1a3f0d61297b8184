/**
 * The XMPP roster fetch of contact import against the real Prosody: it reads names and groups
 * through a second login while the owner's own session stays connected, and turns a refused login
 * and a server that cannot be reached into the owner's words.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactsFetchError } from '@parley/gateway-kit';
import { createXmppUser, testEnv, xml, XmppTestClient, type XmppTestUser } from '@parley/testing';
import { fetchRoster } from '../src/xmpp/roster-fetch.js';

const { host, c2sPort, domain } = testEnv.xmpp();
const c2s = { host, port: c2sPort };

let owner: XmppTestUser;
let ownClient: XmppTestClient;

beforeAll(async () => {
  owner = await createXmppUser('roster');
  ownClient = await XmppTestClient.connect(owner, { resource: 'desktop' });
  for (const item of [
    xml('item', { jid: `Ann@${domain}`, name: 'Ann' }, xml('group', {}, 'Work'), xml('group', {}, 'Chess')),
    xml('item', { jid: `ben@${domain}` }),
  ]) {
    await ownClient.xmpp.iqCaller.request(
      xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:roster' }, item)),
    );
  }
});

afterAll(async () => {
  await ownClient?.stop();
});

async function failure(promise: Promise<unknown>): Promise<ContactsFetchError> {
  const error = await promise.then(
    () => new Error('expected the fetch to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ContactsFetchError);
  return error as ContactsFetchError;
}

describe('fetchRoster', () => {
  it('reads the roster with names and groups, leaving the owner’s own session connected', async () => {
    const contacts = await fetchRoster(owner.jid, owner.password, { c2s });
    expect(contacts.sort((a, b) => a.address.localeCompare(b.address))).toEqual([
      { address: `ann@${domain}`, name: 'Ann', groups: ['Chess', 'Work'] },
      { address: `ben@${domain}`, groups: [] },
    ]);
    expect(ownClient.xmpp.status).toBe('online');
    // Still usable: the owner's session answers a roster request after the import logged out.
    const roster = await ownClient.xmpp.iqCaller.request(
      xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })),
    );
    expect(roster.getChild('query')?.getChildren('item')).toHaveLength(2);
  });

  it('says "wrong password" when the server refuses the login', async () => {
    const error = await failure(fetchRoster(owner.jid, `${owner.password}x`, { c2s }));
    expect(error.code).toBe('wrong-password');
    expect(error.message).toMatch(/^wrong password/);
    expect(error.message).not.toContain(owner.password);
  });

  it('says "server unreachable" when nothing answers at the server’s address', async () => {
    // A port that was just free: connection refused.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as AddressInfo;
        server.close(() => resolve(free));
      });
    });
    const error = await failure(fetchRoster(owner.jid, owner.password, { c2s: { host: '127.0.0.1', port } }));
    expect(error.code).toBe('server-unreachable');
    expect(error.message).toMatch(/^server unreachable: .*ECONNREFUSED/);
  });

  it('says "server unreachable" when a server answers but never completes the login in time', async () => {
    // A TCP server that accepts and then says nothing, like a stuck or wrong service.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const error = await failure(
        fetchRoster(owner.jid, owner.password, { c2s: { host: '127.0.0.1', port }, loginTimeoutMs: 500 }),
      );
      expect(error.code).toBe('server-unreachable');
      expect(error.message).toMatch(/took longer than 500 ms/);
    } finally {
      silent.close();
    }
  });
});
