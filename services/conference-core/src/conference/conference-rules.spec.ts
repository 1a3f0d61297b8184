import { describe, expect, it } from 'vitest';
import type { ImInboundV1, Network, ParticipantState } from '@parley/contracts';
import {
  closeConference,
  decideInbound,
  invite,
  mayJoinUninvited,
  presenceKey,
  removeParticipant,
  setOwner,
  startConference,
  type ConferenceFacts,
  type ParticipantFacts,
} from './conference-rules.js';
import { newConferenceId, slugify } from './conference-id.js';

const now = new Date('2026-11-22T10:00:00Z');
const options = { now, isOwnerContact: false };

function conference(overrides: Partial<ConferenceFacts> = {}): ConferenceFacts {
  return {
    id: 'team-sync-abc123',
    name: 'Team sync',
    subject: 'Weekly',
    state: 'active',
    joinPolicy: 'invite-only',
    ...overrides,
  };
}

function person(name: string, state: ParticipantState, network: Network = 'xmpp'): ParticipantFacts {
  return {
    id: `id-${name}`,
    network,
    address: network === 'xmpp' ? `${name}@example.org` : `${name}@irc.example.org`,
    displayName: name,
    state,
    invitedBy: null,
    joinedAt: null,
    leftAt: null,
    messageCount: 0,
  };
}

function message(from: string, body: string, network: Network = 'xmpp'): ImInboundV1 {
  return {
    id: `m-${Math.random()}`,
    occurredAt: now.toISOString(),
    kind: 'message',
    network,
    conferenceId: 'team-sync-abc123',
    from,
    body,
  };
}

/** Delivered messages as "to: body" lines, for readable expectations. */
function sent(decision: { deliveries: Array<{ to: string; kind: string; body?: string }> }): string[] {
  return decision.deliveries.map((d) => `${d.to}: ${d.kind === 'message' ? d.body : `<${d.kind}>`}`);
}

describe('relaying a message', () => {
  it('relays to every joined participant but the sender, as [name (network)] text', () => {
    const roster = [person('alice', 'joined'), person('bob', 'joined'), person('dave', 'joined', 'irc')];
    const decision = decideInbound(conference(), roster, message('Alice@Example.org', 'hi all'), options);
    expect(sent(decision)).toEqual([
      'bob@example.org: [alice (xmpp)] hi all',
      'dave@irc.example.org: [alice (xmpp)] hi all',
    ]);
    expect(decision.events).toEqual([
      {
        type: 'message-accepted',
        sender: { network: 'xmpp', address: 'alice@example.org', displayName: 'alice' },
        body: 'hi all',
      },
    ]);
    expect(roster[0]!.messageCount).toBe(1);
  });

  it('skips paused, invited, authorized, left and removed participants', () => {
    const roster = [
      person('alice', 'joined'),
      person('bob', 'paused'),
      person('carol', 'invited'),
      person('dan', 'authorized'),
      person('erin', 'left'),
      person('fay', 'removed'),
      person('gus', 'joined'),
    ];
    const decision = decideInbound(conference(), roster, message('alice@example.org', 'x'), options);
    expect(decision.deliveries.map((d) => d.to)).toEqual(['gus@example.org']);
  });

  it('lets a paused participant talk', () => {
    const roster = [person('alice', 'paused'), person('bob', 'joined')];
    expect(sent(decideInbound(conference(), roster, message('alice@example.org', 'x'), options))).toEqual([
      'bob@example.org: [alice (xmpp)] x',
    ]);
  });

  it('does not relay for someone who has not joined, and says how to join', () => {
    const roster = [person('alice', 'invited'), person('bob', 'joined')];
    const decision = decideInbound(conference(), roster, message('alice@example.org', 'x'), options);
    expect(sent(decision)).toEqual([
      'alice@example.org: You have not joined yet: send /join to join "Team sync" (your message was not relayed).',
    ]);
    expect(decision.events).toEqual([]);
  });

  it('refuses a stranger politely, mentioning /join only when the policy lets them in', () => {
    const roster = [person('bob', 'joined')];
    expect(sent(decideInbound(conference(), roster, message('eve@evil.example', 'x'), options))).toEqual([
      'eve@evil.example: Sorry, "Team sync" is a private conference: only invited participants can take part.',
    ]);
    expect(
      sent(
        decideInbound(conference({ joinPolicy: 'open' }), roster, message('eve@evil.example', 'x'), options),
      ),
    ).toEqual([
      'eve@evil.example: You are not in "Team sync" yet: send /join to join (your message was not relayed).',
    ]);
  });

  it('answers for conferences that are not running', () => {
    const roster = [person('alice', 'joined')];
    const say = (c: ConferenceFacts | null) =>
      sent(decideInbound(c, roster, message('alice@example.org', 'x'), options));
    expect(say(null)).toEqual(['alice@example.org: There is no conference at this address.']);
    expect(say(conference({ state: 'terminated' }))).toEqual([
      'alice@example.org: The conference "Team sync" has ended.',
    ]);
    expect(say(conference({ state: 'draft' }))).toEqual([
      'alice@example.org: The conference "Team sync" has not started yet.',
    ]);
  });

  it('ignores a blank body', () => {
    expect(
      decideInbound(conference(), [person('alice', 'joined')], message('alice@example.org', '  '), options),
    ).toEqual({
      deliveries: [],
      events: [],
      touched: [],
    });
  });
});

describe('commands', () => {
  it('/join joins, answers the joiner and tells the others', () => {
    const roster = [person('alice', 'authorized'), person('bob', 'joined'), person('carol', 'paused')];
    const decision = decideInbound(conference(), roster, message('alice@example.org', '/join'), options);
    expect(sent(decision)).toEqual([
      'alice@example.org: You joined "Team sync" (2 others here). Send /help for the commands.',
      'bob@example.org: alice (xmpp) joined.',
    ]);
    expect(roster[0]).toMatchObject({ state: 'joined', joinedAt: now });
    expect(decision.events.map((e) => e.type)).toEqual(['participant-joined']);
  });

  it('/join lets a stranger in only under the open policy (or owner-contacts for a contact)', () => {
    expect(mayJoinUninvited('invite-only', true)).toBe(false);
    expect(mayJoinUninvited('owner-contacts', false)).toBe(false);
    expect(mayJoinUninvited('owner-contacts', true)).toBe(true);
    expect(mayJoinUninvited('open', false)).toBe(true);
    const roster = [person('bob', 'joined')];
    const refused = decideInbound(conference(), roster, message('eve@x.example', '/join'), options);
    expect(refused.touched).toEqual([]);
    const joined = decideInbound(
      conference({ joinPolicy: 'open' }),
      roster,
      { ...message('eve@x.example', '/join'), displayName: 'Eve' } as ImInboundV1,
      options,
    );
    expect(roster).toHaveLength(2);
    // Self-invited through the policy: recorded as invited by themselves.
    expect(roster[1]).toMatchObject({
      id: null,
      displayName: 'Eve',
      state: 'joined',
      invitedBy: { participantId: null, network: 'xmpp', address: 'eve@x.example', displayName: 'Eve' },
    });
    expect(joined.events.map((e) => e.type)).toEqual(['participant-invited', 'participant-joined']);
    expect(sent(joined)).toContain('bob@example.org: Eve (xmpp) joined.');
  });

  it('/join is refused to someone the owner removed, even when the conference is open', () => {
    const roster = [person('eve', 'removed')];
    const decision = decideInbound(
      conference({ joinPolicy: 'open' }),
      roster,
      message('eve@example.org', '/join'),
      options,
    );
    expect(sent(decision)).toEqual([
      'eve@example.org: Sorry, you are no longer a participant of "Team sync".',
    ]);
  });

  it('/exit leaves and tells the others; /join brings a leaver back', () => {
    const roster = [person('alice', 'joined'), person('bob', 'joined')];
    const left = decideInbound(conference(), roster, message('alice@example.org', '/quit'), options);
    expect(sent(left)).toEqual([
      'alice@example.org: You left "Team sync". Send /join to come back.',
      'bob@example.org: alice (xmpp) left.',
    ]);
    expect(roster[0]).toMatchObject({ state: 'left', leftAt: now });
    decideInbound(conference(), roster, message('alice@example.org', '/join'), options);
    expect(roster[0]).toMatchObject({ state: 'joined', leftAt: null });
  });

  it('/pause and /resume switch delivery without notices', () => {
    const roster = [person('alice', 'joined'), person('bob', 'joined')];
    const paused = decideInbound(conference(), roster, message('alice@example.org', '/pause'), options);
    expect(sent(paused)).toEqual([
      'alice@example.org: Paused: you will receive no messages until you send /resume.',
    ]);
    expect(roster[0]!.state).toBe('paused');
    const resumed = decideInbound(conference(), roster, message('alice@example.org', '/resume'), options);
    expect(sent(resumed)).toEqual(['alice@example.org: Resumed: you receive messages again.']);
    expect(roster[0]!.state).toBe('joined');
    expect([...paused.events, ...resumed.events].map((e) => e.type)).toEqual([
      'participant-paused',
      'participant-resumed',
    ]);
  });

  it('/list names every participant but the removed, with their state', () => {
    const roster = [
      person('alice', 'joined'),
      person('bob', 'paused'),
      person('fay', 'removed'),
      person('dave', 'invited', 'irc'),
    ];
    const decision = decideInbound(conference(), roster, message('bob@example.org', '/list'), options);
    expect(decision.deliveries[0]!.body).toBe(
      [
        'Participants of "Team sync" (3):',
        'alice (xmpp): joined',
        'bob (xmpp) — you: paused',
        'dave (irc): invited',
      ].join('\n'),
    );
  });

  it('/invite adds the invitee with the inviter, asks them to accept the bot, invites them and tells the others', () => {
    const roster = [person('alice', 'joined'), person('bob', 'joined')];
    const decision = decideInbound(
      conference(),
      roster,
      message('alice@example.org', '/invite xmpp Dave@Example.org'),
      options,
    );
    expect(roster[2]).toMatchObject({
      id: null,
      address: 'dave@example.org',
      displayName: 'dave',
      state: 'invited',
      invitedBy: {
        participantId: 'id-alice',
        network: 'xmpp',
        address: 'alice@example.org',
        displayName: 'alice',
      },
    });
    expect(sent(decision)).toEqual([
      'dave@example.org: <authorization-request>',
      'dave@example.org: You are invited by alice (xmpp) to the conference "Team sync" — Weekly. Reply /join to join, /help for the commands.',
      'bob@example.org: dave (xmpp) was invited by alice (xmpp).',
      'alice@example.org: Invited dave (xmpp).',
    ]);
    expect(decision.events).toEqual([
      expect.objectContaining({
        type: 'participant-invited',
        invitedBy: expect.objectContaining({ address: 'alice@example.org' }),
      }),
    ]);
  });

  it('/invite refuses someone already in, and someone the owner removed', () => {
    const roster = [person('alice', 'joined'), person('bob', 'paused'), person('fay', 'removed')];
    expect(
      sent(
        decideInbound(
          conference(),
          roster,
          message('alice@example.org', '/invite xmpp bob@example.org'),
          options,
        ),
      ),
    ).toEqual(['alice@example.org: bob@example.org (xmpp) is already a participant.']);
    expect(
      sent(
        decideInbound(
          conference(),
          roster,
          message('alice@example.org', '/invite xmpp fay@example.org'),
          options,
        ),
      ),
    ).toEqual([
      'alice@example.org: fay@example.org (xmpp) was removed by the owner and cannot be invited again.',
    ]);
  });

  it('commands other than /join and /help are refused to non-participants', () => {
    for (const body of ['/list', '/invite xmpp x@example.org', '/pause', '/exit']) {
      expect(sent(decideInbound(conference(), [], message('eve@example.org', body), options))[0]).toMatch(
        /^eve@example.org: Sorry/,
      );
    }
    expect(sent(decideInbound(conference(), [], message('eve@example.org', '/help'), options))[0]).toMatch(
      /Commands/,
    );
  });
});

describe('commands answered with another service\u2019s data', () => {
  const roster = () => [
    person('alice', 'joined'),
    person('bob', 'joined'),
    person('carol', 'paused'),
    person('dave', 'joined', 'irc'),
    person('erin', 'authorized'),
    person('frank', 'removed'),
  ];
  const presence = (entries: Array<[ParticipantFacts, string, string?]>) =>
    new Map(
      entries.map(([p, value, status]) => [
        presenceKey(p),
        { presence: value as 'online', ...(status ? { status } : {}) },
      ]),
    );

  it('/list status shows state, presence and status text; unknown presence is offline', () => {
    const r = roster();
    const lookups = {
      presence: presence([
        [r[0]!, 'online'],
        [r[1]!, 'busy', 'in a meeting'],
        [r[2]!, 'xa'],
        [r[3]!, 'offline'],
      ]),
    };
    const decision = decideInbound(conference(), r, message('alice@example.org', '/list status'), {
      ...options,
      lookups,
    });
    expect(sent(decision)).toEqual([
      [
        'alice@example.org: Participants of "Team sync" (5):',
        'alice (xmpp) — you: joined, online',
        'bob (xmpp): joined, busy — "in a meeting"',
        'carol (xmpp): paused, extended away',
        'dave (irc): joined, offline',
        'erin (xmpp): authorized, offline',
      ].join('\n'),
    ]);
  });

  it('/list active shows only joined participants who are not offline', () => {
    const r = roster();
    const lookups = {
      presence: presence([
        [r[0]!, 'away'],
        [r[1]!, 'busy'],
        [r[2]!, 'online'],
        [r[3]!, 'offline'],
      ]),
    };
    const decision = decideInbound(conference(), r, message('bob@example.org', '/list active'), {
      ...options,
      lookups,
    });
    expect(sent(decision)).toEqual([
      'bob@example.org: Active participants of "Team sync" (2):\nalice (xmpp): away\nbob (xmpp) — you: busy',
    ]);
  });

  it('says so when presence could not be asked', () => {
    const decision = decideInbound(conference(), roster(), message('bob@example.org', '/list active'), {
      ...options,
      lookups: { presence: null },
    });
    expect(sent(decision)).toEqual([
      'bob@example.org: Presence is not available right now; /list shows every participant.',
    ]);
  });

  it('/history and /search send each archive message to the asker only, in order', () => {
    for (const body of ['/history 5 hours', '/search budget']) {
      const decision = decideInbound(conference(), roster(), message('carol@example.org', body), {
        ...options,
        lookups: { archive: ['first\nlines', 'second'] },
      });
      expect(sent(decision)).toEqual(['carol@example.org: first\nlines', 'carol@example.org: second']);
      expect(decision.events).toEqual([]);
    }
  });

  it('/history is refused to someone not in the conference, and explained when the archive is down', () => {
    const refused = decideInbound(conference(), roster(), message('erin@example.org', '/history'), {
      ...options,
      lookups: { archive: ['secret'] },
    });
    expect(sent(refused)).toEqual(['erin@example.org: You are not in "Team sync": send /join first.']);
    const down = decideInbound(conference(), roster(), message('alice@example.org', '/search x'), {
      ...options,
      lookups: { archive: null },
    });
    expect(sent(down)).toEqual([
      'alice@example.org: The archive is not available right now; please try again in a moment.',
    ]);
  });
});

describe('subscriptions', () => {
  const subscription = (
    from: string,
    kind: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed',
  ): ImInboundV1 => ({
    id: 's1',
    occurredAt: now.toISOString(),
    kind: 'subscription',
    network: 'xmpp',
    conferenceId: 'team-sync-abc123',
    from,
    subscription: kind,
  });

  it('authorizes an invitee who accepts the bot and shows the bot online to them', () => {
    const roster = [person('alice', 'invited')];
    const decision = decideInbound(
      conference(),
      roster,
      subscription('alice@example.org', 'subscribed'),
      options,
    );
    expect(roster[0]!.state).toBe('authorized');
    expect(sent(decision)).toEqual(['alice@example.org: <bot-online>']);
    expect(decision.events.map((e) => e.type)).toEqual(['participant-authorized']);
  });

  it('grants participants a subscription to the bot and refuses strangers of an invite-only conference', () => {
    const roster = [person('alice', 'joined')];
    expect(
      sent(decideInbound(conference(), roster, subscription('alice@example.org', 'subscribe'), options)),
    ).toEqual(['alice@example.org: <bot-online>']);
    expect(
      sent(decideInbound(conference(), roster, subscription('eve@example.org', 'subscribe'), options)),
    ).toEqual(['eve@example.org: <revoke-authorization>']);
    expect(
      sent(
        decideInbound(
          conference({ joinPolicy: 'open' }),
          roster,
          subscription('eve@example.org', 'subscribe'),
          options,
        ),
      ),
    ).toEqual(['eve@example.org: <bot-online>']);
  });
});

describe('owner operations', () => {
  it('start sends each invitee the authorization request, then the invitation', () => {
    const c = conference({ state: 'draft' });
    const roster = [person('alice', 'invited'), person('fay', 'removed')];
    const decision = startConference(c, roster);
    expect(c.state).toBe('active');
    expect(sent(decision)).toEqual([
      'alice@example.org: <authorization-request>',
      'alice@example.org: You are invited to the conference "Team sync" — Weekly. Reply /join to join, /help for the commands.',
    ]);
    expect(decision.events).toEqual([{ type: 'conference-started', name: 'Team sync', subject: 'Weekly' }]);
  });

  it('invitations before the start contact nobody', () => {
    const c = conference({ state: 'draft' });
    const roster: ParticipantFacts[] = [];
    const { decision, participant } = invite(
      c,
      roster,
      { network: 'xmpp', address: 'Bob@Example.org' },
      null,
    );
    expect(participant).toMatchObject({ address: 'bob@example.org', state: 'invited', invitedBy: null });
    expect(decision.deliveries).toEqual([]);
  });

  it('close says goodbye, revokes the authorization and takes the bot offline for everyone contacted', () => {
    const c = conference();
    const roster = [person('alice', 'joined'), person('carol', 'left'), person('fay', 'removed')];
    const decision = closeConference(c, roster, 'closed');
    expect(c.state).toBe('terminated');
    expect(sent(decision)).toEqual([
      'alice@example.org: The conference "Team sync" was closed by its owner. Goodbye!',
      'alice@example.org: <revoke-authorization>',
      'alice@example.org: <bot-offline>',
      'carol@example.org: The conference "Team sync" was closed by its owner. Goodbye!',
      'carol@example.org: <revoke-authorization>',
      'carol@example.org: <bot-offline>',
    ]);
    expect(decision.events).toEqual([{ type: 'conference-terminated', reason: 'closed' }]);
  });

  it('removing a participant tells them and the others, and drops the bot from their contacts', () => {
    const roster = [person('alice', 'joined'), person('bob', 'joined')];
    const decision = removeParticipant(conference(), roster, roster[1]!, now);
    expect(sent(decision)).toEqual([
      'bob@example.org: You were removed from the conference "Team sync" by its owner.',
      'bob@example.org: <revoke-authorization>',
      'bob@example.org: <bot-offline>',
      'alice@example.org: bob (xmpp) was removed by the owner.',
    ]);
  });
});

describe('conference ids', () => {
  it('slugs the name and adds randomness, always a valid subject token', () => {
    expect(slugify('Équipe Sync — 2026!')).toBe('equipe-sync-2026');
    expect(newConferenceId('Team sync', Buffer.from([0, 1, 2, 3, 4, 35]))).toBe('team-sync-abcde9');
    expect(newConferenceId('!!!')).toMatch(/^conference-[a-z0-9]{6}$/);
    expect(newConferenceId('x'.repeat(300))).toMatch(/^x{40}-[a-z0-9]{6}$/);
    expect(newConferenceId('a.b*c>d')).toMatch(/^a-b-c-d-[a-z0-9]{6}$/);
  });
});

describe('hostile participants', () => {
  const policy = {
    isBotAddress: (network: Network, address: string) =>
      network === 'xmpp' && address.endsWith('@conf.example.org'),
    perParticipant: 2,
    byParticipants: 3,
  };

  it('puts the sender on every line, so a newline cannot speak for someone else', () => {
    const roster = [person('alice', 'joined'), person('bob', 'joined')];
    const decision = decideInbound(
      conference(),
      roster,
      message('alice@example.org', 'ok\n[bob (xmpp)] I resign'),
      options,
    );
    expect(sent(decision)).toEqual([
      'bob@example.org: [alice (xmpp)] ok\n[alice (xmpp)] [bob (xmpp)] I resign',
    ]);
  });

  it('refuses a message over the limit whole, with one line saying the size and the limit', () => {
    const roster = [person('alice', 'joined'), person('bob', 'joined')];
    const long = decideInbound(
      conference(),
      roster,
      message('alice@example.org', 'x'.repeat(16_300)),
      options,
    );
    expect(sent(long)).toEqual([
      'alice@example.org: Too long: 16300 characters, the limit is 1000. Your message was not relayed; please split it.',
    ]);
    expect(long.events).toEqual([]);
    const lines = decideInbound(
      conference(),
      roster,
      message('alice@example.org', 'a\n'.repeat(30)),
      options,
    );
    expect(sent(lines)[0]).toMatch(/^alice@example.org: Too long: 31 lines, the limit is 10\./);
  });

  it('splits a long bot answer into messages that fit', () => {
    const roster = [
      person('alice', 'joined'),
      ...Array.from({ length: 120 }, (_, i) => person(`participant${i}`, 'joined')),
    ];
    const decision = decideInbound(conference(), roster, message('alice@example.org', '/list'), options);
    expect(decision.deliveries.length).toBeGreaterThan(1);
    for (const d of decision.deliveries) expect(d.body!.length).toBeLessThanOrEqual(1_500);
  });

  it('never invites a Parley bot, neither by /invite nor for the owner', () => {
    const roster = [person('alice', 'joined')];
    const decision = decideInbound(
      conference(),
      roster,
      message('alice@example.org', '/invite xmpp team-sync-abc123@conf.example.org'),
      { ...options, invitations: policy },
    );
    expect(sent(decision)).toEqual([
      'alice@example.org: team-sync-abc123@conf.example.org (xmpp) is a Parley conference bot; bots cannot be invited.',
    ]);
    expect(roster).toHaveLength(1);
    const ircBot = decideInbound(
      conference(),
      roster,
      message('alice@example.org', '/invite irc other-conf-x1y2z3'),
      {
        ...options,
        lookups: { inviteeIsBot: true },
      },
    );
    expect(sent(ircBot)[0]).toMatch(/is a Parley conference bot/);
    expect(
      invite(
        conference(),
        roster,
        { network: 'xmpp', address: 'x@conf.example.org' },
        null,
        undefined,
        policy,
      ).refusal,
    ).toMatch(/bot/);
  });

  it('caps invitations per participant and per conference, with a clear answer', () => {
    const roster = [person('alice', 'joined'), person('bob', 'joined')];
    const invites = (from: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        sent(
          decideInbound(
            conference(),
            roster,
            message(`${from}@example.org`, `/invite xmpp ${from}-friend${i}@example.org`),
            {
              ...options,
              invitations: policy,
            },
          ),
        ).at(-1),
      );
    expect(invites('alice', 3)).toEqual([
      'alice@example.org: Invited alice-friend0 (xmpp).',
      'alice@example.org: Invited alice-friend1 (xmpp).',
      'alice@example.org: You have invited 2 people, the most one participant may invite here; ask the owner of "Team sync" to invite more.',
    ]);
    expect(invites('bob', 2)).toEqual([
      'bob@example.org: Invited bob-friend0 (xmpp).',
      'bob@example.org: "Team sync" has reached its limit of 3 invitations by participants; ask its owner to invite more.',
    ]);
  });

  it('cleans a forged display name and keeps names unique in the conference', () => {
    const roster = [person('alice', 'joined'), person('bob', 'joined')];
    const conf = conference({ joinPolicy: 'open' });
    decideInbound(
      conf,
      roster,
      { ...message('mallory@example.org', '/join'), displayName: 'bob (xmpp)] hi [x' } as ImInboundV1,
      options,
    );
    expect(roster[2]!.displayName).toBe('bob hi x');
    decideInbound(
      conf,
      roster,
      { ...message('eve@example.org', '/join'), displayName: 'Bob' } as ImInboundV1,
      options,
    );
    expect(roster[3]!.displayName).toBe('Bob 2');
  });
});

describe('IRC without network accounts', () => {
  it('/list marks the participants of a network that cannot prove who they are', () => {
    const roster = [person('alice', 'joined'), person('dave', 'joined', 'irc')];
    const decision = decideInbound(conference(), roster, message('alice@example.org', '/list'), {
      ...options,
      unverifiedNetworks: new Set(['irc'] as const),
    });
    expect(sent(decision)).toEqual([
      'alice@example.org: Participants of "Team sync" (2):\nalice (xmpp) — you: joined\ndave (irc, unverified): joined',
    ]);
  });
});

describe('the owner in their own conference', () => {
  it('invites the owner’s identity and marks it; /list says so', () => {
    const roster = [person('alice', 'joined')];
    const decision = setOwner(conference(), roster, { network: 'xmpp', address: 'Olga@Example.org' });
    expect(roster[1]).toMatchObject({ address: 'olga@example.org', state: 'invited', isOwner: true });
    expect(sent(decision)).toContain('olga@example.org: <authorization-request>');
    roster[1]!.state = 'joined';
    const list = decideInbound(conference(), roster, message('alice@example.org', '/list'), options);
    expect(sent(list)[0]).toContain('olga (xmpp, owner): joined');
  });

  it('lets only the owner /remove and /close from the IM client', () => {
    const owner = { ...person('olga', 'joined'), isOwner: true };
    const roster = [owner, person('alice', 'joined'), person('bob', 'joined')];
    const refused = decideInbound(conference(), roster, message('alice@example.org', '/remove bob'), options);
    expect(sent(refused)).toEqual(['alice@example.org: Only the owner of "Team sync" can /remove.']);
    expect(roster[2]!.state).toBe('joined');
    const removed = decideInbound(conference(), roster, message('olga@example.org', '/remove bob'), options);
    expect(roster[2]!.state).toBe('removed');
    expect(sent(removed)).toContain('olga@example.org: Removed bob (xmpp).');
    expect(
      sent(decideInbound(conference(), roster, message('alice@example.org', '/close'), options)),
    ).toEqual(['alice@example.org: Only the owner of "Team sync" can /close.']);
    const conf = conference();
    const closed = decideInbound(conf, roster, message('olga@example.org', '/close'), options);
    expect(conf.state).toBe('terminated');
    expect(closed.events.map((e) => e.type)).toEqual(['conference-terminated']);
  });
});
