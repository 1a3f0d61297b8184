/**
 * Presence: applies gateways' per-client updates to each identity's record (rules in
 * presence-rules.ts), publishes a change event when the aggregate changed, and answers batch
 * queries. No transport types here: the handler and the controller call these methods.
 */
import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { JetStreamBus } from '@parley/bus';
import {
  PRESENCE_QUERY_STATUS_MAX,
  normalizeAddress,
  streams,
  subjects,
  uuidv7,
  type Identity,
  type IdentityPresence,
  type PresenceChangedV1,
  type PresenceUpdateV1,
} from '@parley/contracts';
import { registry } from '@parley/observability';
import {
  applyPresenceUpdate,
  currentAggregate,
  type PresenceChange,
  type PresenceRecord,
} from './presence-rules.js';
import { PresenceStore, presenceKey } from './presence-store.js';

const updates = new Counter({
  name: 'parley_presence_updates_total',
  help: 'Client presence updates handled, by outcome (applied, stale, duplicate)',
  labelNames: ['outcome'],
  registers: [registry],
});
const changes = new Counter({
  name: 'parley_presence_changes_total',
  help: 'Aggregate presence changes published',
  registers: [registry],
});

@Injectable()
export class PresenceService {
  constructor(
    private readonly store: PresenceStore,
    private readonly bus: JetStreamBus,
  ) {}

  /**
   * Records one client's presence. The change event is written into the record (with its id) in
   * the same KV write as the new state, and published after it: if publishing fails or the process
   * dies in between, the redelivered update finds itself recorded and publishes the same event
   * again, which JetStream de-duplicates by id.
   */
  async applyUpdate(update: PresenceUpdateV1): Promise<void> {
    const address = normalizeAddress(update.network, update.address);
    const { outcome, change, record } = await this.store.modify(
      presenceKey(update.network, address),
      (current) => {
        const result = applyPresenceUpdate(current, update, {
          address,
          now: Date.now(),
          newChangeId: () => uuidv7(),
        });
        return { next: result.record, result: { ...result, record: result.record ?? current } };
      },
    );
    updates.inc({ outcome });
    if (change && record) {
      await this.bus.publish(
        streams.presenceChanges(),
        subjects.presenceChanged(record.network),
        toChangedEvent(record, change),
      );
      if (outcome === 'applied') changes.inc();
    }
  }

  /** The aggregate presence of each identity, in request order; never-seen identities are offline. */
  async query(identities: Identity[]): Promise<IdentityPresence[]> {
    const records = await this.store.readMany(identities.map((i) => presenceKey(i.network, i.address)));
    return identities.map((identity, index) => describe(identity, records[index]));
  }
}

function toChangedEvent(record: PresenceRecord, change: PresenceChange): PresenceChangedV1 {
  return {
    id: change.id,
    occurredAt: new Date(change.at).toISOString(),
    network: record.network,
    address: record.address,
    presence: change.presence,
    ...(change.status ? { status: change.status } : {}),
  };
}

function describe(identity: Identity, record: PresenceRecord | undefined): IdentityPresence {
  const { presence, status } = currentAggregate(record);
  const since = record?.lastChange ? new Date(record.lastChange.at).toISOString() : undefined;
  return {
    network: identity.network,
    address: identity.address,
    presence,
    ...(status ? { status: truncate(status, PRESENCE_QUERY_STATUS_MAX) } : {}),
    ...(since ? { since } : {}),
  };
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, ''); // never split a surrogate pair
  return `${cut}…`;
}
