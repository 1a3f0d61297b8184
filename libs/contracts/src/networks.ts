/** The IM networks Parley speaks, and how an address on each is validated. */
import { z } from 'zod';

export const NETWORKS = ['xmpp', 'irc'] as const;
export const networkSchema = z.enum(NETWORKS);
export type Network = z.infer<typeof networkSchema>;

// RFC 7622 in practice: local@domain with no spaces/forbidden chars, domain a hostname.
// eslint-disable-next-line no-control-regex -- control characters are exactly what a JID may not contain
const JID_LOCAL = /^[^\s"&'/:<>@\u0000-\u001f\u007f]{1,1023}$/u;
const HOSTNAME =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
// RFC 2812 nickname, generous length (servers advertise their own NICKLEN).
const IRC_NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/;

/**
 * Checks an address for a network; returns a precise reason when it is not valid, or null.
 * `use`: an IM `account` (a login, so an IRC one names its server) or a conference `participant`.
 */
/** Longest address a participant or account may have (the bus contracts carry at most this). */
export const MAX_ADDRESS_LENGTH = 320;

export function addressError(
  network: Network,
  address: string,
  use: 'account' | 'participant' = 'account',
): string | null {
  if (address.length > MAX_ADDRESS_LENGTH)
    return `the address is too long (at most ${MAX_ADDRESS_LENGTH} characters)`;
  if (network === 'xmpp') {
    const at = address.indexOf('@');
    if (at <= 0) return 'an XMPP address must look like user@domain';
    if (address.includes('/')) return 'an XMPP address must be a bare JID (no /resource)';
    const local = address.slice(0, at);
    const domain = address.slice(at + 1);
    if (!JID_LOCAL.test(local)) return 'the user part of the JID has forbidden characters';
    if (!HOSTNAME.test(domain)) return 'the domain part of the JID is not a valid host name';
    return null;
  }
  // irc: an IM account (a login) names its server: nick@server[:port]. A conference participant
  // is a bare nick on the IRC server gateway-irc is configured for (nick@server is accepted too,
  // but the two forms are never converted into each other: see docs/gateway-adapter.md).
  const match = /^([^@]+)(?:@([^:@]+)(?::(\d{1,5}))?)?$/.exec(address);
  if (!match || (use === 'account' && match[2] === undefined)) {
    return use === 'account'
      ? 'an IRC address must look like nick@server[:port]'
      : 'an IRC address must be a nick (or nick@server[:port])';
  }
  const [, nick, server, port] = match;
  if (!IRC_NICK.test(nick!)) return 'the IRC nick is not valid (letters, digits and []\\`_^{|}-, ≤ 30)';
  if (server !== undefined && !HOSTNAME.test(server)) return 'the IRC server is not a valid host name';
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return 'the IRC port must be 1–65535';
  return null;
}

/** Addresses are compared case-insensitively on every network we speak. */
export function normalizeAddress(network: Network, address: string): string {
  return network === 'xmpp' || network === 'irc' ? address.trim().toLowerCase() : address.trim();
}
