/**
 * This deployment's invitation policy (see InvitationPolicy in conference-rules.ts): its own bots'
 * addresses — any address on the XMPP component domain, the pooled IRC bot's nick — are never
 * invited (a per-conference IRC bot nick is recognised by the store, which knows the conference
 * ids), and participants' invitations are capped.
 */
import { normalizeAddress, type Network } from '@parley/contracts';
import type { InvitationPolicy } from './conference-rules.js';

export const INVITATION_POLICY = Symbol('INVITATION_POLICY');
/** The networks whose participants are known only by a name anyone may take (IRC without accounts). */
export const UNVERIFIED_NETWORKS = Symbol('UNVERIFIED_NETWORKS');

export function invitationPolicy(options: {
  xmppComponentDomain: string;
  ircPoolNick: string;
  perParticipant: number;
  byParticipants: number;
}): InvitationPolicy {
  const domain = options.xmppComponentDomain.toLowerCase();
  const poolNick = options.ircPoolNick.toLowerCase();
  return {
    isBotAddress: (network: Network, address: string) => {
      const normalized = normalizeAddress(network, address).toLowerCase();
      if (network === 'xmpp') {
        const host = normalized.slice(normalized.lastIndexOf('@') + 1);
        return host === domain || host.endsWith(`.${domain}`);
      }
      return normalized.split('@')[0] === poolNick;
    },
    perParticipant: options.perParticipant,
    byParticipants: options.byParticipants,
  };
}

/**
 * The conference ids an IRC nick could be the bot of (gateway-irc's botNick: the id, `p` + id when
 * it starts with a digit, `_N` after a collision, head + `-` + random tail when too long).
 */
export function conferenceIdsForNick(nick: string): { exact: string[]; headTail?: [string, string] } {
  const base = nick.toLowerCase().replace(/_\d+$/, '');
  const exact = [base, base.replace(/^p(?=\d)/, '')];
  const truncated = /^(.+)-([a-z0-9]{6})$/.exec(base);
  return truncated ? { exact, headTail: [truncated[1]!, truncated[2]!] } : { exact };
}
