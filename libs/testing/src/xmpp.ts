/**
 * Real XMPP users for tests: accounts created on the local Prosody with prosodyctl, and a thin
 * wrapper around a real @xmpp/client connection that records every stanza it receives.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { testEnv } from './env.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface XmppTestUser {
  username: string;
  password: string;
  /** Bare JID, e.g. `alice-1a2b@localhost`. */
  jid: string;
}

/** A Prosody to register users on: the local one, or one a test started itself. */
export interface XmppTestServer {
  domain: string;
  prosodyConfig: string;
}

/** A fresh user's address and password on `server`, not registered yet (see registerXmppUser). */
export function newXmppUser(name = 'user', server: XmppTestServer = testEnv.xmpp()): XmppTestUser {
  const username = `${name}-${randomBytes(3).toString('hex')}`.toLowerCase();
  return { username, password: randomBytes(9).toString('base64url'), jid: `${username}@${server.domain}` };
}

/** Creates the account of `user` on `server`. */
export async function registerXmppUser(
  user: XmppTestUser,
  server: XmppTestServer = testEnv.xmpp(),
): Promise<void> {
  const { domain, prosodyConfig } = server;
  await run('prosodyctl', ['--config', prosodyConfig, 'register', user.username, domain, user.password]);
}

/** Registers a fresh user on the local Prosody, or on `server` (one a test started itself). */
export async function createXmppUser(
  name = 'user',
  server: XmppTestServer = testEnv.xmpp(),
): Promise<XmppTestUser> {
  const user = newXmppUser(name, server);
  await registerXmppUser(user, server);
  return user;
}

export class XmppTestClient {
  /** Every stanza received, in order. */
  readonly received: Element[] = [];

  private constructor(
    readonly user: XmppTestUser,
    readonly xmpp: Client,
    readonly fullJid: string,
  ) {}

  /** Logs in, fetches the roster and sends initial presence (so bare-JID messages arrive). */
  static async connect(
    user: XmppTestUser,
    options: {
      resource?: string;
      presence?: Element | null;
      autoAcceptSubscriptions?: boolean;
      /** Another Prosody than the shared test server (e.g. one a test started itself). */
      c2sPort?: number;
    } = {},
  ): Promise<XmppTestClient> {
    const { host, domain } = testEnv.xmpp();
    const c2sPort = options.c2sPort ?? testEnv.xmpp().c2sPort;
    const xmpp = client({
      service: `xmpp://${host}:${c2sPort}`,
      domain,
      username: user.username,
      password: user.password,
      resource: options.resource ?? `test-${randomBytes(2).toString('hex')}`,
    });
    xmpp.reconnect.stop();
    const received: Element[] = [];
    xmpp.on('stanza', (stanza: Element) => {
      received.push(stanza);
    });
    xmpp.on('error', () => undefined);
    const address = await xmpp.start();
    const wrapper = new XmppTestClient(user, xmpp, address.toString());
    (wrapper as { received: Element[] }).received.push(...received.splice(0));
    xmpp.removeAllListeners('stanza');
    xmpp.on('stanza', async (stanza: Element) => {
      wrapper.received.push(stanza);
      if (options.autoAcceptSubscriptions && stanza.is('presence') && stanza.attrs.type === 'subscribe') {
        await wrapper.send(xml('presence', { to: stanza.attrs.from, type: 'subscribed' }));
      }
    });
    await xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    if (options.presence !== null) await xmpp.send(options.presence ?? xml('presence'));
    return wrapper;
  }

  send(stanza: Element): Promise<void> {
    return this.xmpp.send(stanza);
  }

  sendMessage(to: string, body: string): Promise<void> {
    return this.send(xml('message', { to, type: 'chat' }, xml('body', {}, body)));
  }

  /** Chat message bodies received from `from` (bare JID), in order. */
  messagesFrom(from: string): string[] {
    return this.received
      .filter((s) => s.is('message') && bare(s.attrs.from) === from && s.getChildText('body') !== null)
      .map((s) => s.getChildText('body')!);
  }

  /** Waits for a stanza matching `match`, searching from the first received. */
  waitForStanza(what: string, match: (stanza: Element) => boolean, timeoutMs = 10_000): Promise<Element> {
    return waitFor(`${this.user.username} to receive ${what}`, () => this.received.find(match), timeoutMs);
  }

  /** Waits for a chat message from `from` whose body matches. */
  waitForMessage(from: string, body: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const matches = (text: string) => (typeof body === 'string' ? text === body : body.test(text));
    return waitFor(
      `${this.user.username} to receive a message matching ${String(body)} from ${from}`,
      () => this.messagesFrom(from).find(matches),
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    await this.xmpp.stop().catch(() => undefined);
  }
}

/** The bare JID of a (possibly full) JID. */
export function bare(jid: string | undefined): string {
  return (jid ?? '').split('/')[0]!.toLowerCase();
}

export { xml };
