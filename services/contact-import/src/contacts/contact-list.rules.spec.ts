import { describe, expect, it } from 'vitest';
import { diffContactList, normalizeContactList, type SavedContact } from './contact-list.rules.js';

const ACCOUNT = 'a0000000-0000-4000-8000-000000000001';
const OTHER_ACCOUNT = 'a0000000-0000-4000-8000-000000000002';
const saved = (
  address: string,
  name: string | null,
  groups: string[],
  imAccountId = ACCOUNT,
): SavedContact => ({
  id: `id-${address}`,
  address,
  name,
  groups,
  imAccountId,
});

describe('contact list rules', () => {
  it('adds every contact of a first import', () => {
    const changes = diffContactList(
      'xmpp',
      ACCOUNT,
      [],
      [
        { address: 'Bob@Example.org', name: 'Bob', groups: ['Work'] },
        { address: 'carol@example.org', groups: [] },
      ],
    );
    expect(changes.add).toEqual([
      { address: 'bob@example.org', name: 'Bob', groups: ['Work'] },
      { address: 'carol@example.org', name: null, groups: [] },
    ]);
    expect(changes).toMatchObject({ update: [], remove: [], unchanged: 0 });
  });

  it('reports a renamed or regrouped contact as changed, an unchanged one as unchanged, a dropped one as removed', () => {
    const changes = diffContactList(
      'xmpp',
      ACCOUNT,
      [
        saved('bob@example.org', 'Bob', ['Work']),
        saved('carol@example.org', 'Carol', ['Family', 'Work']),
        saved('dave@example.org', null, []),
      ],
      [
        { address: 'bob@example.org', name: 'Robert', groups: ['Work'] },
        { address: 'carol@example.org', name: 'Carol', groups: ['Work', 'Family'] },
        { address: 'erin@example.org', groups: ['Friends'] },
      ],
    );
    expect(changes.add.map((c) => c.address)).toEqual(['erin@example.org']);
    expect(changes.update).toEqual([
      {
        id: 'id-bob@example.org',
        address: 'bob@example.org',
        name: 'Robert',
        groups: ['Work'],
        isChange: true,
      },
    ]);
    expect(changes.remove).toEqual(['id-dave@example.org']);
    expect(changes.unchanged).toBe(1);
  });

  it('never removes a contact another account saved, and takes over one it now lists too', () => {
    const changes = diffContactList(
      'xmpp',
      ACCOUNT,
      [saved('bob@example.org', 'Bob', [], OTHER_ACCOUNT), saved('zed@example.org', null, [], OTHER_ACCOUNT)],
      [{ address: 'bob@example.org', name: 'Bob', groups: [] }],
    );
    expect(changes.remove).toEqual([]);
    expect(changes.update).toEqual([
      { id: 'id-bob@example.org', address: 'bob@example.org', name: 'Bob', groups: [], isChange: false },
    ]);
    expect(changes.unchanged).toBe(1);
  });

  it('merges a contact listed twice into one entry with both groups', () => {
    expect(
      normalizeContactList('xmpp', [
        { address: 'bob@example.org', name: 'Bob', groups: ['Work'] },
        { address: 'BOB@example.org', groups: ['Family'] },
      ]),
    ).toEqual([{ address: 'bob@example.org', name: 'Bob', groups: ['Family', 'Work'] }]);
  });
});
