/** Text rules every network shares: what may be relayed from a user, and the stable id of an inbound event. */
import { createHash } from 'node:crypto';
import type { Network } from '@parley/contracts';

// C0 and C1 control characters except tab and line feed; DEL. They can drive terminals or hide
// text in other clients (and IRC's formatting codes live here; strip those first to keep their digits out).
// eslint-disable-next-line no-control-regex -- control characters are exactly what we remove
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Bidirectional overrides and isolates (Trojan Source): they can make a relayed line read backwards.
const BIDI = /[\u202a-\u202e\u2066-\u2069]/g;

/** Text as it may be relayed: CRLF → LF, control and bidi-override characters removed. */
export function cleanText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(CONTROL, '').replace(BIDI, '');
}

/**
 * The stable id of an inbound event (its Nats-Msg-Id and conference-core's inbox key):
 * `<network>-` + a hash of the parts, so the same parts always give the same id.
 */
export function stableId(network: Network, parts: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(parts.join('\u0000'));
  return `${network}-${hash.digest('hex').slice(0, 40)}`;
}
