import { describe, expect, it } from 'vitest';
import { choosePoolConference, parseConfCommand, poolNick, tagLines } from './pool-routing.js';

describe('parseConfCommand', () => {
  it.each([
    ['/conf', {}],
    ['  --CONF  ', {}],
    ['/conf Team-Sync-k4q7x2', { conferenceId: 'team-sync-k4q7x2' }],
    ['—conf abc', { conferenceId: 'abc' }],
    ['/conference', null],
    ['/conf a b', null],
    ['conf a', null],
  ])('%j → %j', (text, expected) => {
    expect(parseConfCommand(text)).toEqual(expected);
  });
});

describe('choosePoolConference', () => {
  const route = (conferenceId: string) => ({ kind: 'route', conferenceId });
  it('follows the choice while it is still one of the participant’s conferences', () => {
    expect(choosePoolConference({ chosen: 'b', lastInvitedTo: 'a', conferences: ['a', 'b'] })).toEqual(
      route('b'),
    );
    expect(choosePoolConference({ chosen: 'gone', lastInvitedTo: 'a', conferences: ['a', 'b'] })).toEqual(
      route('a'),
    );
  });
  it('else the latest invitation, else the only conference', () => {
    expect(choosePoolConference({ chosen: undefined, lastInvitedTo: 'a', conferences: ['a', 'b'] })).toEqual(
      route('a'),
    );
    expect(choosePoolConference({ chosen: undefined, lastInvitedTo: undefined, conferences: ['c'] })).toEqual(
      route('c'),
    );
  });
  it('asks when there are several and no choice, and says when there is none', () => {
    expect(choosePoolConference({ chosen: undefined, lastInvitedTo: 'x', conferences: ['a', 'b'] })).toEqual({
      kind: 'choose',
    });
    expect(choosePoolConference({ chosen: 'a', lastInvitedTo: 'a', conferences: [] })).toEqual({
      kind: 'none',
    });
  });
});

describe('tagLines and poolNick', () => {
  it('tags every non-blank line with the conference id', () => {
    expect(tagLines('team-k4', 'Participants (2):\n- a\n\n- b')).toBe(
      '[team-k4] Participants (2):\n[team-k4] - a\n\n[team-k4] - b',
    );
  });
  it('numbers colliding pool nicks within the nick length', () => {
    expect([0, 1, 12].map((n) => poolNick('parleybot', n, 9))).toEqual([
      'parleybot',
      'parleyb_1',
      'parley_12',
    ]);
  });
});
