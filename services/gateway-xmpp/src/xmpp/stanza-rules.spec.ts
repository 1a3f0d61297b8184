import { describe, expect, it } from 'vitest';
import {
  bareJid,
  isBounceFrom,
  cleanBody,
  inboundId,
  parseTarget,
  presenceShow,
  resourceOf,
  xmlSafe,
} from './stanza-rules.js';

describe('parseTarget', () => {
  it.each([
    [
      'team-sync-abc123@conf.localhost',
      { kind: 'bot', conferenceId: 'team-sync-abc123', jid: 'team-sync-abc123@conf.localhost' },
    ],
    [
      'Team-Sync-ABC123@Conf.Localhost/res',
      { kind: 'bot', conferenceId: 'team-sync-abc123', jid: 'team-sync-abc123@conf.localhost' },
    ],
    ['conf.localhost', { kind: 'domain' }],
    ['conf.localhost/x', { kind: 'domain' }],
    ['not.a.conference@conf.localhost', { kind: 'invalid' }],
    ['-dash@conf.localhost', { kind: 'invalid' }],
    [`${'a'.repeat(49)}@conf.localhost`, { kind: 'invalid' }],
    ['someone@localhost', { kind: 'foreign' }],
    [undefined, { kind: 'foreign' }],
  ])('%s → %j', (to, target) => {
    expect(parseTarget(to, 'conf.localhost')).toEqual(target);
  });
});

describe('cleanBody', () => {
  it('removes control and bidi-override characters but keeps tabs, new lines and other text', () => {
    expect(cleanBody('a\u0007b\u0085c\u009bd\u202ee\u2066f\u007f')).toBe('abcdef');
    expect(cleanBody('line 1\r\nline 2\rline 3\tend')).toBe('line 1\nline 2\nline 3\tend');
    expect(cleanBody('héllo 👋 مرحبا <b>&amp;</b>')).toBe('héllo 👋 مرحبا <b>&amp;</b>');
  });
});

describe('xmlSafe', () => {
  it('removes what XML 1.0 cannot carry and keeps the rest', () => {
    expect(xmlSafe('\u0001ACTION waves\u0001 \ufffe\uffff')).toBe('ACTION waves ');
    expect(xmlSafe('tab\tnew\nline\r <&> \u0085 ✓')).toBe('tab\tnew\nline\r <&> \u0085 ✓');
  });
});

describe('inboundId', () => {
  const base = { from: 'a@x/r', to: 'c@conf', body: 'hi', receipt: '1:1' };
  it('is stable for the same stanza id and differs otherwise', () => {
    expect(inboundId({ ...base, stanzaId: 's1' })).toBe(
      inboundId({ ...base, stanzaId: 's1', receipt: '2:2' }),
    );
    expect(inboundId({ ...base, stanzaId: 's1' })).not.toBe(inboundId({ ...base, stanzaId: 's2' }));
    expect(inboundId({ ...base, stanzaId: 's1' })).not.toBe(
      inboundId({ ...base, stanzaId: 's1', body: 'other' }),
    );
    expect(inboundId({ ...base, stanzaId: undefined })).not.toBe(
      inboundId({ ...base, stanzaId: undefined, receipt: '1:2' }),
    );
    expect(inboundId({ ...base, stanzaId: 'x'.repeat(5000) })).toMatch(/^xmpp-[0-9a-f]{40}$/);
  });
});

describe('presence', () => {
  it.each([
    [undefined, null, 'online'],
    [undefined, 'away', 'away'],
    [undefined, 'dnd', 'dnd'],
    [undefined, 'xa', 'xa'],
    [undefined, 'chat', 'chat'],
    [undefined, 'bogus', 'online'],
    ['unavailable', null, 'offline'],
    ['subscribe', null, null],
    ['probe', null, null],
  ])('type %s show %s → %s', (type, show, expected) => {
    expect(presenceShow(type, show)).toBe(expected);
  });

  it("takes a bounce only from the delivery's recipient or their server", () => {
    const id = 'fan-out-1#0:bob@example.org';
    expect(isBounceFrom(id, 'Bob@example.org/phone')).toBe(true);
    expect(isBounceFrom(id, 'example.org')).toBe(true);
    expect(isBounceFrom(id, 'carol@example.org/laptop')).toBe(false);
    expect(isBounceFrom(id, 'other.example')).toBe(false);
    expect(isBounceFrom(id, undefined)).toBe(false);
    // A queued delivery, sent later as a fan-out to its one recipient: colons before the recipient.
    const queued = 'cause-1#q0:xmpp:bob@example.org:bob@example.org';
    expect(isBounceFrom(queued, 'bob@example.org')).toBe(true);
    expect(isBounceFrom(queued, 'example.org')).toBe(true);
    expect(isBounceFrom(queued, 'carol@example.org')).toBe(false);
  });

  it('splits JIDs', () => {
    expect(bareJid('Alice@Example.org/Phone/x')).toBe('alice@example.org');
    expect(resourceOf('alice@example.org/Phone/x')).toBe('Phone/x');
    expect(resourceOf('alice@example.org')).toBe('');
  });
});
