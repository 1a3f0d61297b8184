/**
 * The presence rules, pure and without I/O: how the clients (resources) of one identity aggregate
 * into one presence (CommuniGate Pro's rule), and how a reported update changes an identity's
 * record. The service around it only loads, stores and publishes.
 */
import type { AggregatePresence, Network, PresenceShow, PresenceUpdateV1 } from '@parley/contracts';

/** The last presence reported for one client/connection of an identity. */
export interface ResourcePresence {
  show: PresenceShow;
  status?: string;
  /** When the gateway saw it (epoch ms of the update's `occurredAt`). */
  at: number;
  /** The update that reported it; breaks ties between updates with the same `at`. */
  updateId: string;
}

export interface AggregateResult {
  presence: AggregatePresence;
  status?: string;
}

/** A change of an identity's aggregate; recorded with the state, then published (see docs/presence.md). */
export interface PresenceChange extends AggregateResult {
  /** The change event's id: fixed when recorded, so a re-publish is de-duplicated by JetStream. */
  id: string;
  /** The update that caused it. */
  causedBy: string;
  /** Strictly increasing per identity (epoch ms): consumers keep the change with the greatest `at`. */
  at: number;
}

/** What the presence service keeps per identity (one KV entry). */
export interface PresenceRecord {
  network: Network;
  /** Normalized address. */
  address: string;
  resources: Record<string, ResourcePresence>;
  /** Offline resources seen at or before this time were forgotten: older updates for them are stale. */
  forgottenUntil?: number;
  /** The last aggregate change (absent until the aggregate first left `offline`). */
  lastChange?: PresenceChange;
}

/** Lower wins: busy beats online beats away beats extended away beats offline. */
const RANK: Record<PresenceShow, number> = { dnd: 0, chat: 1, online: 1, away: 2, xa: 3, offline: 4 };
const PRESENCE_OF_RANK: readonly AggregatePresence[] = ['busy', 'online', 'away', 'xa', 'offline'];

/** Offline resources are kept this long so a late, older update cannot bring them back. */
export const FORGET_OFFLINE_AFTER_MS = 24 * 60 * 60 * 1000;
/** At most this many offline resources are kept per identity (XMPP resources are often random). */
export const MAX_OFFLINE_RESOURCES = 16;

/** Is `a` a later report than `b`? Time first, then update id, so every replica decides alike. */
function isLater(a: { at: number; updateId: string }, b: { at: number; updateId: string }): boolean {
  return a.at !== b.at ? a.at > b.at : a.updateId > b.updateId;
}

/**
 * The presence of an identity over all its clients: busy (dnd) if any is busy, else online if any
 * is online (chat counts as online), else away, else extended away, else offline. The status text
 * is the one of the winning client; among clients of the same level, the latest report wins.
 */
export function aggregatePresence(resources: Iterable<ResourcePresence>): AggregateResult {
  let winner: ResourcePresence | undefined;
  for (const resource of resources) {
    if (
      !winner ||
      RANK[resource.show] < RANK[winner.show] ||
      (RANK[resource.show] === RANK[winner.show] && isLater(resource, winner))
    ) {
      winner = resource;
    }
  }
  if (!winner) return { presence: 'offline' };
  const presence = PRESENCE_OF_RANK[RANK[winner.show]]!;
  return winner.status ? { presence, status: winner.status } : { presence };
}

/** The aggregate an identity is known to have: its last change, or offline when it never changed. */
export function currentAggregate(record: PresenceRecord | undefined): AggregateResult {
  const last = record?.lastChange;
  if (!last) return { presence: 'offline' };
  return last.status ? { presence: last.presence, status: last.status } : { presence: last.presence };
}

export type UpdateOutcome =
  /** The update is the newest report of its resource; the record changed. */
  | 'applied'
  /** A newer report of the same resource is already recorded: nothing changes. */
  | 'stale'
  /** This very update is already recorded (a redelivery): nothing changes. */
  | 'duplicate';

export interface UpdateResult {
  outcome: UpdateOutcome;
  /** The record to store; present only when `outcome` is `applied`. */
  record?: PresenceRecord;
  /**
   * The change event to publish: a new change when the aggregate changed, or, for a redelivered
   * update that caused the recorded last change, that change again (it may not have gone out).
   */
  change?: PresenceChange;
}

export interface UpdateContext {
  /** Normalized address of the update's identity. */
  address: string;
  now: number;
  /** Id for a new change event. */
  newChangeId: () => string;
}

/**
 * Applies one client's presence update to an identity's record. Updates may arrive out of order
 * and more than once (gateway retries, JetStream redelivery, several replicas): per resource the
 * report with the latest `occurredAt` wins (ties: the greater update id), so any arrival order of
 * the same updates ends in the same record.
 */
export function applyPresenceUpdate(
  record: PresenceRecord | undefined,
  update: PresenceUpdateV1,
  context: UpdateContext,
): UpdateResult {
  const incoming: ResourcePresence = {
    show: update.show,
    at: Date.parse(update.occurredAt),
    updateId: update.id,
    ...(update.status ? { status: update.status } : {}),
  };
  const existing = record?.resources[update.resource];
  if (existing?.updateId === update.id || record?.lastChange?.causedBy === update.id) {
    const change = record?.lastChange?.causedBy === update.id ? record.lastChange : undefined;
    return change ? { outcome: 'duplicate', change } : { outcome: 'duplicate' };
  }
  if (existing && !isLater(incoming, existing)) return { outcome: 'stale' };
  if (!existing && record?.forgottenUntil !== undefined && incoming.at <= record.forgottenUntil) {
    return { outcome: 'stale' };
  }

  const next: PresenceRecord = {
    network: update.network,
    address: context.address,
    resources: { ...record?.resources, [update.resource]: incoming },
    ...(record?.forgottenUntil !== undefined ? { forgottenUntil: record.forgottenUntil } : {}),
    ...(record?.lastChange ? { lastChange: record.lastChange } : {}),
  };
  forgetOldOfflineResources(next, context.now);

  const before = currentAggregate(record);
  const after = aggregatePresence(Object.values(next.resources));
  if (after.presence === before.presence && after.status === before.status) {
    return { outcome: 'applied', record: next };
  }
  const change: PresenceChange = {
    id: context.newChangeId(),
    causedBy: update.id,
    ...after,
    // Never earlier than the previous change, so "keep the greatest `at`" orders changes correctly
    // even when two replicas publish them in the opposite order.
    at: Math.max(incoming.at, (record?.lastChange?.at ?? -Infinity) + 1),
  };
  next.lastChange = change;
  return { outcome: 'applied', record: next, change };
}

/** Drops offline resources older than a day, and all but the newest MAX_OFFLINE_RESOURCES. */
function forgetOldOfflineResources(record: PresenceRecord, now: number): void {
  const offline = Object.entries(record.resources)
    .filter(([, r]) => r.show === 'offline')
    .sort(([, a], [, b]) => (isLater(a, b) ? -1 : 1));
  offline.forEach(([name, resource], index) => {
    if (index >= MAX_OFFLINE_RESOURCES || resource.at < now - FORGET_OFFLINE_AFTER_MS) {
      delete record.resources[name];
      record.forgottenUntil = Math.max(record.forgottenUntil ?? -Infinity, resource.at);
    }
  });
}

/**
 * Is a stored record of no more use? It is when its identity is offline (no client but offline
 * ones) and nothing was written to it for `retentionMs`: a missing record answers exactly as an
 * offline one (only without `since`), and with the retention above PRESENCE_UPDATES' one day no
 * report older than the record can still arrive to be taken for news. A record with a client that
 * is not offline stays however old it is: gateways report every client that goes away.
 */
export function isPrunable(
  record: PresenceRecord,
  writtenAt: number,
  now: number,
  retentionMs: number,
): boolean {
  return (
    now - writtenAt >= retentionMs &&
    Object.values(record.resources).every((resource) => resource.show === 'offline') &&
    currentAggregate(record).presence === 'offline'
  );
}
