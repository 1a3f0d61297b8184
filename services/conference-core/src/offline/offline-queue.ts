/**
 * The offline-delivery queue: deliveries kept for participants who are offline on a network without
 * offline storage (see offline-rules.ts), capped per participant (oldest dropped, counted for a note)
 * and turned back into outbox rows, in queue order, when presence says the participant is back.
 * Both sides run inside the caller's transaction, under the conference row lock (conference.store.ts).
 */
import type { EntityManager } from 'typeorm';
import { deleteInBatches, insertRows, type Queryable } from '@parley/persistence';
import { subjects, type ImDeliveryV1, type ImDeliveryV2, type Network } from '@parley/contracts';
import type { OutboxMessage } from '../outbox/outbox.relay.js';
import { droppedNote, overflow } from './offline-rules.js';

export const OFFLINE_QUEUE = Symbol('OFFLINE_QUEUE');

export interface OfflineQueueOptions {
  networks: ReadonlySet<Network>;
  /** Most messages kept per participant. */
  cap: number;
}

/** Keeps deliveries (already validated IM_OUTBOUND payloads) until their recipient is back. */
export async function queueOffline(
  manager: EntityManager,
  deliveries: ImDeliveryV1[],
  cap: number,
): Promise<void> {
  if (deliveries.length === 0) return;
  await insertRows(
    manager,
    'offline_queue',
    [
      { name: 'conference_id', type: 'text' },
      { name: 'network', type: 'text' },
      { name: 'address', type: 'text' },
      { name: 'msg_id', type: 'text' },
      { name: 'payload', type: 'jsonb' },
    ],
    deliveries.map((d) => [d.conferenceId, d.network, d.to, d.deliveryId, JSON.stringify(d)]),
  );
  const recipients = new Map(deliveries.map((d) => [`${d.conferenceId}\n${d.network}\n${d.to}`, d]));
  for (const d of recipients.values()) {
    const [{ n } = { n: 0 }] = (await manager.query(
      'SELECT count(*)::int AS n FROM offline_queue WHERE conference_id = $1 AND network = $2 AND address = $3',
      [d.conferenceId, d.network, d.to],
    )) as Array<{ n: number }>;
    const drop = overflow(n, cap);
    if (drop === 0) continue;
    await manager.query(
      `DELETE FROM offline_queue WHERE id IN (
         SELECT id FROM offline_queue WHERE conference_id = $1 AND network = $2 AND address = $3
          ORDER BY id LIMIT $4)`,
      [d.conferenceId, d.network, d.to, drop],
    );
    await manager.query(
      `INSERT INTO offline_drop (conference_id, network, address, dropped) VALUES ($1, $2, $3, $4)
       ON CONFLICT (network, address, conference_id) DO UPDATE SET dropped = offline_drop.dropped + $4`,
      [d.conferenceId, d.network, d.to, drop],
    );
  }
}

/**
 * Takes every delivery queued for an identity (all its conferences) as outbox messages, oldest
 * first; a conference where some were dropped starts with the note saying how many.
 */
export async function takeQueued(
  manager: EntityManager,
  network: Network,
  address: string,
  cap: number,
): Promise<OutboxMessage[]> {
  const rows = (await manager.query(
    'DELETE FROM offline_queue WHERE network = $1 AND address = $2 RETURNING id, conference_id, msg_id, payload',
    [network, address],
  )) as [Array<{ id: string; conference_id: string; msg_id: string; payload: ImDeliveryV1 }>, number];
  const drops = (await manager.query(
    'DELETE FROM offline_drop WHERE network = $1 AND address = $2 RETURNING conference_id, dropped',
    [network, address],
  )) as [Array<{ conference_id: string; dropped: number }>, number];
  const dropped = new Map(drops[0].map((d) => [d.conference_id, d.dropped]));
  const queued = [...rows[0]].sort((a, b) => Number(a.id) - Number(b.id));
  const out: OutboxMessage[] = [];
  for (const row of queued) {
    const n = dropped.get(row.conference_id);
    if (n) {
      dropped.delete(row.conference_id);
      const deliveryId = `${row.msg_id}#dropped`;
      out.push(
        toOutbox({ ...row.payload, id: `${row.payload.id}-dropped`, deliveryId, body: droppedNote(n, cap) }),
      );
    }
    out.push(toOutbox(row.payload));
  }
  return out;
}

/** A queued (single) delivery goes out as a fan-out to its one recipient. */
function toOutbox(delivery: ImDeliveryV1): OutboxMessage {
  const { to, ...rest } = delivery;
  const fanOut: ImDeliveryV2 = { ...rest, recipients: [to] };
  return {
    stream: 'im-outbound',
    subject: subjects.imOutbound(delivery.network, delivery.conferenceId),
    msgId: delivery.deliveryId,
    payload: fanOut as unknown as Record<string, unknown>,
  };
}

/**
 * Which queued rows (alias `t`) no one will take any more: the conference is no longer active
 * (terminated: its bot is gone), or the identity is no longer in it (left, removed — it must not
 * get the conference's messages when it comes back).
 */
const NO_LONGER_RECEIVED = `NOT EXISTS (
  SELECT 1 FROM conference c JOIN participant p ON p.conference_id = c.id
   WHERE c.id = t.conference_id AND c.state = 'active'
     AND p.network = t.network AND p.address = t.address AND p.state NOT IN ('left', 'removed'))`;

/**
 * Deletes queued deliveries (and drop counts) that no one will take any more. Without it a queue
 * whose participant never came back stayed for ever (the cap bounds it per participant of an active
 * conference only). Returns how many deliveries went.
 */
export async function pruneOfflineQueues(db: Queryable): Promise<number> {
  const deliveries = await deleteInBatches(db, 'offline_queue', NO_LONGER_RECEIVED);
  await deleteInBatches(db, 'offline_drop', NO_LONGER_RECEIVED);
  return deliveries;
}
