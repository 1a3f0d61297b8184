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

  it('skips items without a JID and answers an empty list for an empty roster', () => {
    expect(parseRoster(xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', {})))).toEqual([]);
    expect(parseRoster(undefined)).toEqual([]);
  });
});
