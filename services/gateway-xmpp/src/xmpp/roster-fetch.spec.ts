import { describe, expect, it } from 'vitest';
import { xml } from '@xmpp/client';
import { parseRoster } from './roster-fetch.js';

describe('parseRoster', () => {
  it('reads bare JIDs in lower case with their names and groups', () => {
    const query = xml(
      'query',
      { xmlns: 'jabber:iq:roster' },
      xml('item', { jid: 'Bob@Example.org', name: ' Bob ', subscription: 'both' }, xml('group', {}, 'Work')),
      xml('item', { jid: 'carol@example.org/phone', subscription: 'none' }),
      xml(
        'item',
        { jid: 'dave@example.org', name: '' },
        xml('group', {}, 'Family'),
        xml('group', {}, 'Family'),
        xml('group', {}, ' '),
      ),
    );
    expect(parseRoster(query)).toEqual([
      { address: 'bob@example.org', name: 'Bob', groups: ['Work'] },
      { address: 'carol@example.org', groups: [] },
      { address: 'dave@example.org', groups: ['Family'] },
    ]);
  });

  it('answers a contact’s groups sorted, whatever order the server sent them in', () => {
    const item = (...groups: string[]) =>
      xml(
        'query',
        { xmlns: 'jabber:iq:roster' },
        xml('item', { jid: 'ann@example.org' }, ...groups.map((g) => xml('group', {}, g))),
      );
    expect(parseRoster(item('Work', 'Chess'))).toEqual(parseRoster(item('Chess', 'Work')));
    expect(parseRoster(item('Work', 'Chess'))[0]!.groups).toEqual(['Chess', 'Work']);
  });

  it('skips items without a JID and answers an empty list for an empty roster', () => {
    expect(parseRoster(xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', {})))).toEqual([]);
    expect(parseRoster(undefined)).toEqual([]);
  });
});
