/**
 * Offline delivery rules, pure: which deliveries wait for their recipient, how the per-participant
 * cap drops the oldest, and the note that says so. Networks whose servers keep messages for
 * offline users (XMPP) get every delivery at once; the others (IRC) are configured here.
 */
import { networkSchema, type AggregatePresence, type ImDeliveryV1, type Network } from '@parley/contracts';

/** Parses `PARLEY_OFFLINE_QUEUE_NETWORKS` (comma-separated, e.g. `irc`); unknown names are refused. */
export function parseQueueNetworks(value: string): ReadonlySet<Network> {
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  return new Set(names.map((name) => networkSchema.parse(name)));
}

/**
 * Whether a delivery waits in the offline queue: a chat message to someone known to be offline on a
 * network without offline storage. Signals (bot online/offline, authorization) are not queued: they
 * describe the bot's state now, and a later one supersedes them.
 */
export function shouldQueue(
  delivery: { network: Network; kind: ImDeliveryV1['kind'] },
  presence: AggregatePresence | undefined,
  queueNetworks: ReadonlySet<Network>,
): boolean {
  return delivery.kind === 'message' && presence === 'offline' && queueNetworks.has(delivery.network);
}

/**
 * Whether a chat message is withheld altogether: its recipient is known to be offline on a network
 * whose participants cannot prove who they are (IRC without accounts). Sent anyway, it would reach
 * whoever takes the nick meanwhile; queued, it would be handed to whoever holds it later.
 */
export function shouldWithhold(
  delivery: { network: Network; kind: ImDeliveryV1['kind'] },
  presence: AggregatePresence | undefined,
  unverifiedNetworks: ReadonlySet<Network>,
): boolean {
  return delivery.kind === 'message' && presence === 'offline' && unverifiedNetworks.has(delivery.network);
}

/** How many of the oldest queued messages go when `queued` are kept and the cap is `cap`. */
export function overflow(queued: number, cap: number): number {
  return Math.max(0, queued - cap);
}

/** The first message a returning participant gets when some were dropped. */
export function droppedNote(dropped: number, cap: number): string {
  const what = dropped === 1 ? '1 older message was' : `${dropped} older messages were`;
  return `While you were away, ${what} dropped (only the last ${cap} are kept). Here are the rest:`;
}
