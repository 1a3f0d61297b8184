/**
 * Pure rules of the XMPP side: which address a stanza is for, how a message body is cleaned, the
 * stable id an inbound stanza is published under, and how XMPP presence maps to Parley's.
 */
import { conferenceIdSchema, type PresenceShow } from '@parley/contracts';
import { stableId } from '@parley/gateway-kit';

export const NS = {
  discoInfo: 'http://jabber.org/protocol/disco#info',
  discoItems: 'http://jabber.org/protocol/disco#items',
  nick: 'http://jabber.org/protocol/nick',
  vcard: 'vcard-temp',
  ping: 'urn:xmpp:ping',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  /**
   * Marks every message a Parley bot sends (`<parley-bot xmlns=…/>`): a Parley bot of any
   * deployment never answers a message carrying it, so two bots cannot keep each other talking.
   */
  parleyBot: 'urn:parley:bot:0',
  /** The server's mod_parley_ack (deploy/prosody/modules): what the component has stored. */
  parleyAck: 'urn:parley:ack',
  /** The server's mod_parley_fanout: one stanza, a copy for each recipient it lists. */
  parleyFanout: 'urn:parley:fanout',
} as const;

/** Whether a sender is a bot of this component (the domain itself or anything on it). */
export function isFromComponent(from: string, domain: string): boolean {
  const host = bareJid(from).split('@').pop()!.toLowerCase();
  return host === domain.toLowerCase() || host.endsWith(`.${domain.toLowerCase()}`);
}

export type BotTarget =
  | { kind: 'bot'; conferenceId: string; jid: string }
  /** The component domain itself (disco of the service). */
  | { kind: 'domain' }
  /** On our domain, but no conference could ever have this address. */
  | { kind: 'invalid' }
  /** Not addressed to us at all (should not happen on a component link). */
  | { kind: 'foreign' };

/** The bare, lower-cased form of a JID. */
export function bareJid(jid: string | undefined): string {
  return (jid ?? '').split('/')[0]!.toLowerCase();
}

/**
 * Whether an error stanza from `from` may be the bounce of delivery `deliveryId` (whose id ends in
 * `:<recipient>`, see `deliveryFor`; what comes before may hold colons too): it comes from the
 * recipient's address or from their server. Anyone else — a participant quoting the stanza id of
 * another's delivery — would otherwise have that delivery sent to the other participant again.
 */
export function isBounceFrom(deliveryId: string, from: string | undefined): boolean {
  const sender = bareJid(from);
  const id = deliveryId.toLowerCase();
  return sender !== '' && (id.endsWith(`:${sender}`) || id.endsWith(`@${sender}`));
}

/** The resource part of a full JID ('' for a bare JID). */
export function resourceOf(jid: string | undefined): string {
  const slash = (jid ?? '').indexOf('/');
  return slash < 0 ? '' : jid!.slice(slash + 1);
}

/** Works out which bot (if any) a stanza's `to` names. */
export function parseTarget(to: string | undefined, domain: string): BotTarget {
  const bare = bareJid(to);
  if (bare === domain.toLowerCase()) return { kind: 'domain' };
  const at = bare.lastIndexOf('@');
  if (at <= 0 || bare.slice(at + 1) !== domain.toLowerCase()) return { kind: 'foreign' };
  const local = bare.slice(0, at);
  if (!conferenceIdSchema.safeParse(local).success) return { kind: 'invalid' };
  return { kind: 'bot', conferenceId: local, jid: bare };
}

export function botJid(conferenceId: string, domain: string): string {
  return `${conferenceId}@${domain}`;
}

/** A body as it may be relayed: CRLF → LF, control and bidi-override characters removed (shared rule). */
export { cleanText as cleanBody } from '@parley/gateway-kit';

// Characters XML 1.0 cannot carry at all: one of them in an outgoing stanza makes the server close
// the whole component stream, so a delivery from another network (e.g. an IRC CTCP \u0001) must
// never contain them.
// eslint-disable-next-line no-control-regex -- control characters are exactly what we remove
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** Text that can be put in a stanza. */
export function xmlSafe(text: string): string {
  return text.replace(NOT_XML, '');
}

/**
 * The stable id an inbound stanza is published under (its Nats-Msg-Id and inbox key). With a
 * stanza id, a re-sent stanza gets the same id; the body is part of it because some clients restart
 * their id counters. Without one, XMPP gives no way to tell a repeat from a new message, and a
 * component never receives the same stanza twice, so the receipt (time + sequence) is hashed in.
 */
export function inboundId(parts: {
  from: string;
  to: string;
  stanzaId: string | undefined;
  body: string;
  receipt: string;
}): string {
  return stableId('xmpp', [parts.from, parts.to, parts.stanzaId ?? `receipt:${parts.receipt}`, parts.body]);
}

/** XMPP presence → Parley's raw presence: no `type` and no `<show/>` is plain online. */
export function presenceShow(type: string | undefined, show: string | null | undefined): PresenceShow | null {
  if (type === 'unavailable') return 'offline';
  if (type !== undefined) return null;
  switch ((show ?? '').trim()) {
    case '':
      return 'online';
    case 'chat':
    case 'away':
    case 'xa':
    case 'dnd':
      return show!.trim() as PresenceShow;
    default:
      return 'online';
  }
}
