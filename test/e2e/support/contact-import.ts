/**
 * What the contact-import scenarios share: the services an import needs on top of the REST stack
 * (contact-import and both gateways, in-process), roster edits by a real XMPP client, and a reader
 * of a server-sent-events answer.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { serviceTestEnv, startTestService, testEnv, xml, type XmppTestClient } from '@parley/testing';
import { AppModule as ContactImportModule } from '../../../services/contact-import/src/app.module.js';
import { loadServiceConfig as loadContactImportConfig } from '../../../services/contact-import/src/config.js';
import { AppModule as IrcGatewayModule } from '../../../services/gateway-irc/src/app.module.js';
import { loadServiceConfig as loadIrcGatewayConfig } from '../../../services/gateway-irc/src/config.js';
import { AppModule as XmppGatewayModule } from '../../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadXmppGatewayConfig } from '../../../services/gateway-xmpp/src/config.js';

/** gateway-xmpp reaches owners' accounts on the test Prosody whatever their domain. */
export function xmppGatewayEnv(): Record<string, string> {
  const { host, c2sPort } = testEnv.xmpp();
  return { PARLEY_XMPP_C2S_HOST: host, PARLEY_XMPP_C2S_PORT: String(c2sPort) };
}

export interface ImportServices {
  contactImport: NestFastifyApplication;
  xmppGateway: NestFastifyApplication;
  ircGateway: NestFastifyApplication;
  close(): Promise<void>;
}

/** contact-import, gateway-xmpp and gateway-irc in-process (hold the XMPP component domain first). */
export async function startImportServices(): Promise<ImportServices> {
  const contactImport = await startTestService(
    'contact-import',
    ContactImportModule.forRoot(loadContactImportConfig(serviceTestEnv('contact-import'))),
  );
  const xmppGateway = await startTestService(
    'gateway-xmpp',
    XmppGatewayModule.forRoot(loadXmppGatewayConfig(serviceTestEnv('gateway-xmpp', xmppGatewayEnv()))),
  );
  const ircGateway = await startTestService(
    'gateway-irc',
    IrcGatewayModule.forRoot(loadIrcGatewayConfig(serviceTestEnv('gateway-irc'))),
  );
  return {
    contactImport,
    xmppGateway,
    ircGateway,
    async close() {
      await ircGateway.close();
      await xmppGateway.close();
      await contactImport.close();
    },
  };
}

export interface RosterEntry {
  jid: string;
  name?: string;
  groups: string[];
}

/** Sets (adds or updates) roster items through the owner's own XMPP session (RFC 6121 roster set). */
export async function setRosterItems(owner: XmppTestClient, items: RosterEntry[]): Promise<void> {
  for (const item of items) {
    await owner.xmpp.iqCaller.request(
      xml(
        'iq',
        { type: 'set' },
        xml(
          'query',
          { xmlns: 'jabber:iq:roster' },
          xml(
            'item',
            { jid: item.jid, ...(item.name ? { name: item.name } : {}) },
            ...item.groups.map((g) => xml('group', {}, g)),
          ),
        ),
      ),
    );
  }
}

export async function removeRosterItem(owner: XmppTestClient, jid: string): Promise<void> {
  await owner.xmpp.iqCaller.request(
    xml(
      'iq',
      { type: 'set' },
      xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid, subscription: 'remove' })),
    ),
  );
}

export interface SseEvent {
  id?: string;
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
  data: any;
}

/** Reads a server-sent-events answer until the server ends it (or `timeoutMs` passes: an error). */
export async function readSse(
  url: string,
  token: string,
  timeoutMs = 30_000,
): Promise<{ status: number; contentType: string; events: SseEvent[] }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    const text = await response.text();
    const events = text
      .split('\n\n')
      .map((block) => block.split('\n').filter((line) => line && !line.startsWith(':')))
      .filter((lines) => lines.length > 0)
      .map((lines) => {
        const field = (name: string) =>
          lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? undefined;
        const data = field('data');
        return {
          id: field('id'),
          event: field('event') ?? 'message',
          data: data ? JSON.parse(data) : undefined,
        };
      });
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', events };
  } catch (error) {
    if (controller.signal.aborted) {
      throw new Error(`the event stream ${url} did not end within ${timeoutMs} ms`, { cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
