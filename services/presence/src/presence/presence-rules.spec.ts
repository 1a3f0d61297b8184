import { describe, expect, it } from 'vitest';
import type { PresenceShow, PresenceUpdateV1 } from '@parley/contracts';
import {
  FORGET_OFFLINE_AFTER_MS,
  MAX_OFFLINE_RESOURCES,
  aggregatePresence,
  applyPresenceUpdate,
  isPrunable,
  type PresenceRecord,
  type ResourcePresence,
} from './presence-rules.js';

const T0 = Date.parse('2026-11-21T12:00:00.000Z');

function resource(
  show: PresenceShow,
  status?: string,
  at = T0,
  updateId = `u-${show}-${at}`,
): ResourcePresence {
  return { show, at, updateId, ...(status ? { status } : {}) };
}

describe('aggregatePresence', () => {
  // Each row: the clients of one identity (show[:status][@seconds after T0]) → the aggregate.
  const table: Array<[string[], string, string | undefined]> = [
    [[], 'offline', undefined],
    [['offline'], 'offline', undefined],
    [['offline:gone home'], 'offline', 'gone home'],
    [['online'], 'online', undefined],
    [['chat:chatty'], 'online', 'chatty'],
    [['away'], 'away', undefined],
    [['xa'], 'xa', undefined],
    [['dnd:meeting'], 'busy', 'meeting'],
    [['dnd:meeting', 'online:desk'], 'busy', 'meeting'],
    [['online:desk', 'dnd:meeting'], 'busy', 'meeting'],
    [['chat', 'xa', 'away', 'dnd:deep work', 'offline'], 'busy', 'deep work'],
    [['away:lunch', 'online:phone'], 'online', 'phone'],
    [['chat:chatty', 'away:lunch'], 'online', 'chatty'],
    [['xa:holiday', 'away:lunch'], 'away', 'lunch'],
    [['offline', 'xa:holiday'], 'xa', 'holiday'],
    [['offline', 'offline'], 'offline', undefined],
    // Same level: the status of the latest report wins, whatever the order of the clients.
    [['online:older@1', 'chat:newer@2'], 'online', 'newer'],
    [['chat:newer@2', 'online:older@1'], 'online', 'newer'],
    [['away:first@5', 'away:second@9', 'away:third@7'], 'away', 'second'],
  ];

  it.each(table)('%j → %s (%s)', (clients, presence, status) => {
    const resources = clients.map((spec) => {
      const [head, seconds] = spec.split('@');
      const [show, text] = head!.split(':');
      return resource(show as PresenceShow, text, T0 + Number(seconds ?? 0) * 1000);
    });
    expect(aggregatePresence(resources)).toEqual(status ? { presence, status } : { presence });
  });
});

describe('applyPresenceUpdate', () => {
  let ids = 0;
  const context = (now = T0) => ({ address: 'alice@localhost', now, newChangeId: () => `change-${++ids}` });
  function update(
    id: string,
    resourceName: string,
    show: PresenceShow,
    secondsAfterT0: number,
    status?: string,
  ): PresenceUpdateV1 {
    return {
      id,
      occurredAt: new Date(T0 + secondsAfterT0 * 1000).toISOString(),
      network: 'xmpp',
      address: 'Alice@localhost',
      resource: resourceName,
      show,
      ...(status ? { status } : {}),
    };
  }
  /** Applies updates in the given order and returns the final record and the changes emitted. */
  function replay(updates: PresenceUpdateV1[], start?: PresenceRecord) {
    let record = start;
    const changes: string[] = [];
    for (const u of updates) {
      const result = applyPresenceUpdate(record, u, context());
      if (result.record) record = result.record;
      if (result.change && result.outcome === 'applied') changes.push(result.change.presence);
    }
    return { record, changes };
  }

  it('emits a change only when the aggregate changes (the issue 6 scenario)', () => {
    const { record, changes } = replay([
      update('1', 'phone', 'dnd', 1, 'meeting'),
      update('2', 'desk', 'online', 2),
      update('3', 'phone', 'offline', 3),
      update('4', 'desk', 'offline', 4),
    ]);
    expect(changes).toEqual(['busy', 'online', 'offline']);
    expect(record?.lastChange).toMatchObject({ presence: 'offline', causedBy: '4' });
    expect(record?.address).toBe('alice@localhost');
  });

  it('treats a status text change as a change of the aggregate', () => {
    const { changes } = replay([update('1', 'a', 'away', 1, 'lunch'), update('2', 'a', 'away', 2, 'coffee')]);
    expect(changes).toEqual(['away', 'away']);
  });

  it('emits nothing for a first report that says offline', () => {
    const result = applyPresenceUpdate(undefined, update('1', 'a', 'offline', 1), context());
    expect(result.outcome).toBe('applied');
    expect(result.change).toBeUndefined();
  });

  it('ignores an older report of a resource that arrives late', () => {
    const { record } = replay([update('2', 'phone', 'offline', 2)]);
    const late = applyPresenceUpdate(record, update('1', 'phone', 'dnd', 1), context());
    expect(late).toEqual({ outcome: 'stale' });
  });

  it('ends in the same state whatever the arrival order', () => {
    const updates = [
      update('1', 'phone', 'dnd', 1, 'meeting'),
      update('2', 'desk', 'online', 2, 'desk'),
      update('3', 'phone', 'offline', 3),
      update('4', 'tablet', 'away', 4, 'idle'),
      update('5', 'desk', 'xa', 5),
    ];
    const inOrder = replay(updates).record!;
    for (const order of [
      [4, 3, 2, 1, 0],
      [2, 0, 4, 1, 3],
      [1, 3, 0, 4, 2],
    ]) {
      const shuffled = replay(order.map((i) => updates[i]!)).record!;
      expect(shuffled.resources).toEqual(inOrder.resources);
      expect(aggregatePresence(Object.values(shuffled.resources))).toEqual({
        presence: 'away',
        status: 'idle',
      });
    }
  });

  it('breaks a tie between two reports of the same instant by update id', () => {
    const a = update('a', 'phone', 'dnd', 1);
    const b = update('b', 'phone', 'online', 1);
    expect(aggregatePresence(Object.values(replay([a, b]).record!.resources)).presence).toBe('online');
    expect(aggregatePresence(Object.values(replay([b, a]).record!.resources)).presence).toBe('online');
  });

  it('hands back the recorded change when the update that caused it is redelivered', () => {
    const first = applyPresenceUpdate(undefined, update('1', 'phone', 'dnd', 1), context());
    const again = applyPresenceUpdate(first.record, update('1', 'phone', 'dnd', 1), context());
    expect(again.outcome).toBe('duplicate');
    expect(again.record).toBeUndefined();
    expect(again.change).toEqual(first.change);
  });

  it('gives each change a later time than the previous one, even for an older update', () => {
    const { record } = replay([update('1', 'phone', 'dnd', 10)]);
    const next = applyPresenceUpdate(record, update('2', 'phone', 'offline', 20), context());
    // A client whose report is older than the last change arrives late, and changes the aggregate.
    const late = applyPresenceUpdate(next.record, update('3', 'desk', 'online', 5), context());
    expect(late.change?.presence).toBe('online');
    expect(late.change!.at).toBeGreaterThan(next.change!.at);
  });

  it('forgets old and surplus offline resources but still refuses their late reports', () => {
    const updates = Array.from({ length: MAX_OFFLINE_RESOURCES + 3 }, (_, i) =>
      update(`off-${i}`, `r${i}`, 'offline', i + 1),
    );
    const { record } = replay(updates);
    expect(Object.keys(record!.resources)).toHaveLength(MAX_OFFLINE_RESOURCES);
    expect(record!.resources.r0).toBeUndefined();
    expect(applyPresenceUpdate(record, update('late', 'r0', 'online', 0.5), context()).outcome).toBe('stale');
    const later = applyPresenceUpdate(record, update('new', 'r0', 'online', 100), context());
    expect(later.change?.presence).toBe('online');

    const dayLater = applyPresenceUpdate(
      record,
      update('x', 'phone', 'online', 200),
      context(T0 + FORGET_OFFLINE_AFTER_MS + 60_000),
    );
    expect(Object.keys(dayLater.record!.resources)).toEqual(['phone']);
  });
});

describe('isPrunable', () => {
  const HOUR = 3_600_000;
  const retention = 168 * HOUR;
  const record = (shows: PresenceShow[], lastChange?: 'online' | 'offline'): PresenceRecord => ({
    network: 'xmpp',
    address: 'alice@example.org',
    resources: Object.fromEntries(shows.map((show, i) => [`r${i}`, resource(show)])),
    ...(lastChange ? { lastChange: { id: 'c', causedBy: 'u', presence: lastChange, at: T0 } } : {}),
  });
  // Each row: the clients, the last change, hours since the record was written → prunable?
  const table: Array<[PresenceShow[], 'online' | 'offline' | undefined, number, boolean]> = [
    [['offline'], 'offline', 169, true],
    [['offline'], 'offline', 168, true],
    [['offline'], 'offline', 167, false],
    [[], undefined, 200, true],
    [['offline', 'offline'], 'offline', 1_000, true],
    [['online'], 'online', 10_000, false],
    [['offline', 'away'], 'online', 10_000, false],
    [['dnd'], 'online', 200, false],
  ];
  it.each(table)('%j (last change %s), written %i h ago → %s', (shows, last, hours, expected) => {
    expect(isPrunable(record(shows, last), T0, T0 + hours * HOUR, retention)).toBe(expected);
  });
});
