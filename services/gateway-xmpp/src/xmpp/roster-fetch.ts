/**
 * Contact import over XMPP: log in as the owner with their stored credentials as an extra resource
 * (`parley-import-<random>`), so the owner's own clients stay connected — XMPP allows many resources
 * per account, and this one never sends presence, so it is never "available" and no message to the
 * owner is routed to it — read the roster (RFC 6121 §2.2, jabber:iq:roster get) with names and
 * groups, and log out. A refused login is "wrong password", a server that cannot be reached is
 * "server unreachable". The password is used for this login only and never logged.
 */
import { randomBytes } from 'node:crypto';
import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import type { RosterContact } from '@parley/contracts';
import { ContactsFetchError } from '@parley/gateway-kit';

/** Where owners' XMPP servers are reached; unset = the JID's domain (DNS SRV, then the domain itself). */
export interface C2sOverride {
  host: string;
  port: number;
}

export interface RosterFetchOptions {
  c2s?: C2sOverride;
  /** Login (connect, STARTTLS, SASL, bind) must finish within this time. */
  loginTimeoutMs?: number;
  /** The roster answer must come within this time. */
  rosterTimeoutMs?: number;
}

const NS_ROSTER = 'jabber:iq:roster';

/**
 * The contacts of a roster result (`<query xmlns="jabber:iq:roster">`), bare JIDs in lower case.
 * A contact's groups are a set in XMPP — servers send them in any order (Prosody's follows its
 * hash table) — so they come out sorted, the same on every import.
 */
export function parseRoster(query: Element | undefined): RosterContact[] {
  const seen = new Map<string, RosterContact>();
  for (const item of query?.getChildren('item') ?? []) {
    const address = String(item.attrs.jid ?? '')
      .split('/')[0]!
      .trim()
      .toLowerCase();
    if (!address || item.attrs.subscription === 'remove') continue;
    const name = typeof item.attrs.name === 'string' ? item.attrs.name.trim().slice(0, 200) : '';
    const groups = [
      ...new Set(
        item
          .getChildren('group')
          .map((g) => g.text().trim().slice(0, 200))
          .filter(Boolean),
      ),
    ]
      .sort((a, b) => a.localeCompare(b))
      .slice(0, 100);
    seen.set(address, { address, ...(name ? { name } : {}), groups });
  }
  return [...seen.values()];
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
]);

/** What a failed login means to the owner. */
function loginFailure(error: unknown, domain: string): ContactsFetchError {
  const e = error as { name?: string; condition?: string; code?: string; message?: string };
  if (e?.name === 'SASLError') {
    return new ContactsFetchError(
      'wrong-password',
      `wrong password: the XMPP server of ${domain} refused the login (${e.condition ?? 'not-authorized'})`,
    );
  }
  const why = e?.code && UNREACHABLE_CODES.has(e.code) ? e.code : (e?.message ?? 'no answer');
  return new ContactsFetchError(
    'server-unreachable',
    `server unreachable: could not log in to the XMPP server of ${domain} (${why})`,
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Reads the roster of `address` (a bare JID) logging in with `password`. */
export async function fetchRoster(
  address: string,
  password: string,
  options: RosterFetchOptions = {},
): Promise<RosterContact[]> {
  const at = address.indexOf('@');
  const username = address.slice(0, at);
  const domain = address.slice(at + 1);
  const xmpp: Client = client({
    service: options.c2s ? `xmpp://${options.c2s.host}:${options.c2s.port}` : domain,
    domain,
    username,
    password,
    resource: `parley-import-${randomBytes(4).toString('hex')}`,
  });
  // One attempt: a failed login is answered, not retried behind the caller's back.
  xmpp.reconnect.stop();
  // Errors are reported through the start() promise; the event would otherwise be unhandled.
  xmpp.on('error', () => undefined);
  try {
    try {
      await withTimeout(xmpp.start(), options.loginTimeoutMs ?? 20_000, 'the login');
    } catch (error) {
      throw loginFailure(error, domain);
    }
    const result: Element = await withTimeout(
      xmpp.iqCaller.request(
        xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })),
      ) as Promise<Element>,
      options.rosterTimeoutMs ?? 30_000,
      'the roster',
    );
    return parseRoster(result.getChild('query', NS_ROSTER));
  } finally {
    // A polite logout (</stream>) when the server talks; a server that does not is not waited on.
    await withTimeout(xmpp.stop(), 2_000, 'the logout').catch(() =>
      (xmpp.socket as unknown as import('node:net').Socket | null)?.destroy(),
    );
  }
}
