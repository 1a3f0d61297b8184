/**
 * The owner's conference endpoints over HTTP against the real accounts, api-gateway and
 * conference-core (NATS + PostgreSQL): the whole flow from creation to close, per-entry errors of a
 * mixed invitation batch, owner scoping (another owner's conference is 404 everywhere), and the
 * problems answered to malformed input.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOwner, expectStatus, startStack, type Stack, type TestOwner } from './support/stack.js';

let stack: Stack;
let owner: TestOwner;

beforeAll(async () => {
  stack = await startStack({ conferences: true });
  owner = await createOwner(stack, 'host');
});

afterAll(async () => {
  await stack?.close();
});

const api = (method: string, path: string, token: string, body?: unknown) =>
  stack.request(method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

async function createConference(token: string, body: Record<string, unknown> = { name: 'Scratch' }) {
  return expectStatus(await api('POST', '/conferences', token, body), 201);
}

describe('the owner’s conference flow', () => {
  it('creates, reads, lists, edits, invites (reporting each rejected address), removes, starts and closes', async () => {
    // Create: a draft with a readable id and a bot named after it.
    const created = await createConference(owner.token, {
      name: 'Team sync',
      subject: 'weekly',
      ttlSeconds: 3600,
    });
    expect(created).toMatchObject({
      ownerId: owner.id,
      name: 'Team sync',
      subject: 'weekly',
      ttlSeconds: 3600,
      joinPolicy: 'invite-only',
      ownerImAccountId: null,
      state: 'draft',
      botName: 'Team sync (parley)',
      participantCount: 0,
      startedAt: null,
      terminatedAt: null,
    });
    expect(created.id).toMatch(/^team-sync-[a-z0-9]+$/);
    const id: string = created.id;
    const other = await createConference(owner.token, { name: 'Other one' });
    expect(other).toMatchObject({ ttlSeconds: 7 * 24 * 3600, subject: '', state: 'draft' });

    expect(expectStatus(await api('GET', `/conferences/${id}`, owner.token), 200)).toEqual(created);
    const list = expectStatus(await api('GET', '/conferences', owner.token), 200);
    expect(list.items.map((c: { id: string }) => c.id)).toEqual([id, other.id]);

    // Patch: only the fields sent change.
    const patched = expectStatus(
      await api('PATCH', `/conferences/${id}`, owner.token, { subject: 'daily', joinPolicy: 'open' }),
      200,
    );
    expect(patched).toMatchObject({
      name: 'Team sync',
      subject: 'daily',
      joinPolicy: 'open',
      ttlSeconds: 3600,
    });
    expect(expectStatus(await api('GET', `/conferences/${id}`, owner.token), 200).subject).toBe('daily');

    // A mixed batch: the valid entries are added, each bad one is reported by index and field (200).
    const mixed = await api('POST', `/conferences/${id}/participants`, owner.token, {
      participants: [
        { network: 'xmpp', address: 'alice@example.org', displayName: 'Alice' },
        { network: 'xmpp', address: 'not a jid' },
        { network: 'irc', address: 'bob@irc.example.org' },
        { network: 'carrier-pigeon', address: 'coo@roof' },
        { network: 'xmpp', address: 'ALICE@example.org' },
      ],
    });
    expect(mixed.status, JSON.stringify(mixed.body)).toBe(200);
    expect(mixed.body.added.map((p: { address: string }) => p.address)).toEqual([
      'alice@example.org',
      'bob@irc.example.org',
    ]);
    expect(mixed.body.added[0]).toMatchObject({
      conferenceId: id,
      network: 'xmpp',
      displayName: 'Alice',
      state: 'invited',
      invitedBy: null,
      messageCount: 0,
    });
    expect(
      mixed.body.errors.map((e: { index: number; field: string; code: string }) => [
        e.index,
        e.field,
        e.code,
      ]),
    ).toEqual([
      [1, 'participants.1.address', 'validation-failed'],
      [3, 'participants.3.network', 'validation-failed'],
      [4, 'participants.4.address', 'conflict'],
    ]);
    expect(mixed.body.errors[0].message).toBe('an XMPP address must look like user@domain');
    expect(mixed.body.errors[1].message).toContain('unknown network');

    // An all-valid batch is 201; an address already invited is reported, not added twice.
    const carol = await api('POST', `/conferences/${id}/participants`, owner.token, {
      participants: [{ network: 'xmpp', address: 'carol@example.org' }],
    });
    expect(carol.status).toBe(201);
    expect(carol.body.errors).toEqual([]);
    const again = await api('POST', `/conferences/${id}/participants`, owner.token, {
      participants: [{ network: 'xmpp', address: 'alice@example.org' }],
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ added: [], errors: [{ index: 0, code: 'conflict' }] });

    const participants = expectStatus(await api('GET', `/conferences/${id}/participants`, owner.token), 200);
    expect(participants.items.map((p: { address: string; state: string }) => [p.address, p.state])).toEqual([
      ['alice@example.org', 'invited'],
      ['bob@irc.example.org', 'invited'],
      ['carol@example.org', 'invited'],
    ]);
    expect(expectStatus(await api('GET', `/conferences/${id}`, owner.token), 200).participantCount).toBe(3);

    // Remove bob before the start: he stays listed as removed and no longer counts.
    const bobId: string = participants.items[1].id;
    const removed = expectStatus(
      await api('DELETE', `/conferences/${id}/participants/${bobId}`, owner.token),
      200,
    );
    expect(removed).toMatchObject({ id: bobId, address: 'bob@irc.example.org', state: 'removed' });
    const afterRemove = expectStatus(await api('GET', `/conferences/${id}/participants`, owner.token), 200);
    expect(afterRemove.items.find((p: { id: string }) => p.id === bobId).state).toBe('removed');
    expect(expectStatus(await api('GET', `/conferences/${id}`, owner.token), 200).participantCount).toBe(2);

    // Start: draft → active, once.
    const started = expectStatus(await api('POST', `/conferences/${id}/start`, owner.token), 200);
    expect(started).toMatchObject({ id, state: 'active', startedAt: expect.any(String), terminatedAt: null });
    const startAgain = await api('POST', `/conferences/${id}/start`, owner.token);
    expect(startAgain.status).toBe(409);
    expect(startAgain.body).toMatchObject({ type: 'urn:parley:problem:conflict' });
    expect(startAgain.headers.get('content-type')).toContain('application/problem+json');
    expect(
      expectStatus(await api('GET', '/conferences', owner.token), 200).items.map(
        (c: { state: string }) => c.state,
      ),
    ).toEqual(['active', 'draft']);

    // Clean drops the removed participant from the list.
    expect(
      expectStatus(await api('POST', `/conferences/${id}/participants/clean`, owner.token), 200),
    ).toEqual({
      removed: 1,
    });
    const cleaned = expectStatus(await api('GET', `/conferences/${id}/participants`, owner.token), 200);
    expect(cleaned.items.map((p: { address: string }) => p.address)).toEqual([
      'alice@example.org',
      'carol@example.org',
    ]);

    // Close: active → terminated, and then nothing changes any more.
    const closed = expectStatus(await api('POST', `/conferences/${id}/close`, owner.token), 200);
    expect(closed).toMatchObject({ state: 'terminated', terminatedAt: expect.any(String) });
    expect(expectStatus(await api('GET', `/conferences/${id}`, owner.token), 200).state).toBe('terminated');
    const refusals = [
      await api('POST', `/conferences/${id}/close`, owner.token),
      await api('PATCH', `/conferences/${id}`, owner.token, { name: 'Revived' }),
      await api('POST', `/conferences/${id}/participants`, owner.token, {
        participants: [{ network: 'xmpp', address: 'dave@example.org' }],
      }),
    ];
    expect(refusals.map((a) => [a.status, a.body.type])).toEqual(
      Array(3).fill([409, 'urn:parley:problem:conflict']),
    );
  });
});

describe('owner scoping', () => {
  it('answers 404 to another owner on every conference endpoint, and changes nothing', async () => {
    const mallory = await createOwner(stack, 'mallory');
    const conference = await createConference(owner.token, { name: 'Private' });
    const id: string = conference.id;
    const added = expectStatus(
      await api('POST', `/conferences/${id}/participants`, owner.token, {
        participants: [{ network: 'xmpp', address: 'erin@example.org' }],
      }),
      201,
    );
    const participantId: string = added.added[0].id;

    const probes: Array<[string, string, unknown?]> = [
      ['GET', `/conferences/${id}`],
      ['PATCH', `/conferences/${id}`, { name: 'Hijacked' }],
      ['POST', `/conferences/${id}/start`],
      ['POST', `/conferences/${id}/close`],
      ['GET', `/conferences/${id}/participants`],
      [
        'POST',
        `/conferences/${id}/participants`,
        { participants: [{ network: 'xmpp', address: 'm@evil.example' }] },
      ],
      ['DELETE', `/conferences/${id}/participants/${participantId}`],
      ['POST', `/conferences/${id}/participants/clean`],
      ['GET', `/conferences/${id}/history`],
      ['GET', `/conferences/${id}/history/export`],
    ];
    for (const [method, path, body] of probes) {
      const answer = await api(method, path, mallory.token, body);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body, `${method} ${path}`).toMatchObject({
        type: 'urn:parley:problem:not-found',
        detail: `conference ${id} not found`,
      });
    }
    expect(expectStatus(await api('GET', '/conferences', mallory.token), 200).items).toEqual([]);

    // The owner's conference is as it was.
    expect(expectStatus(await api('GET', `/conferences/${id}`, owner.token), 200)).toMatchObject({
      name: 'Private',
      state: 'draft',
      participantCount: 1,
    });
    const list = expectStatus(await api('GET', `/conferences/${id}/participants`, owner.token), 200);
    expect(list.items.map((p: { address: string; state: string }) => [p.address, p.state])).toEqual([
      ['erin@example.org', 'invited'],
    ]);
  });

  it('lets only one of my own IM accounts represent me in a conference', async () => {
    const other = await createOwner(stack, 'other');
    const imAccount = async (token: string, address: string) =>
      expectStatus(
        await api('POST', '/im-accounts', token, { network: 'xmpp', address, password: 'im-secret-1' }),
        201,
      ).id as string;
    const mine = await imAccount(owner.token, `host-${randomUUID().slice(0, 8)}@example.org`);
    const theirs = await imAccount(other.token, 'other@example.org');

    const created = await createConference(owner.token, { name: 'Represented', ownerImAccountId: mine });
    expect(created.ownerImAccountId).toBe(mine);
    const foreign = await api('POST', '/conferences', owner.token, {
      name: 'Borrowed',
      ownerImAccountId: theirs,
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body).toMatchObject({
      type: 'urn:parley:problem:validation-failed',
      field: 'ownerImAccountId',
      detail: 'ownerImAccountId: not one of your IM accounts',
    });
    const patchForeign = await api('PATCH', `/conferences/${created.id}`, owner.token, {
      ownerImAccountId: theirs,
    });
    expect(patchForeign.status).toBe(400);
    expect(patchForeign.body.field).toBe('ownerImAccountId');
    expect(
      expectStatus(await api('GET', `/conferences/${created.id}`, owner.token), 200).ownerImAccountId,
    ).toBe(mine);
    const dropped = expectStatus(
      await api('PATCH', `/conferences/${created.id}`, owner.token, { ownerImAccountId: null }),
      200,
    );
    expect(dropped.ownerImAccountId).toBeNull();
    expect(
      expectStatus(await api('GET', '/conferences', owner.token), 200).items.map(
        (c: { name: string }) => c.name,
      ),
    ).not.toContain('Borrowed');
  });

  it('answers 404 to an unknown conference and an unknown participant, and 401 without a token', async () => {
    const missing = await api('GET', '/conferences/no-such-conference-zz9', owner.token);
    expect(missing.status).toBe(404);
    const conference = await createConference(owner.token);
    const noParticipant = await api(
      'DELETE',
      `/conferences/${conference.id}/participants/${randomUUID()}`,
      owner.token,
    );
    expect(noParticipant.status).toBe(404);
    expect(noParticipant.body.field).toBe('participantId');
    const anonymous = await stack.request('GET', '/api/v1/conferences');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('malformed requests', () => {
  let id: string;
  beforeAll(async () => {
    id = (await createConference(owner.token, { name: 'Strict' })).id;
  });

  const cases: Array<{ name: string; method: string; path: () => string; body?: unknown; field: string }> = [
    { name: 'create without a name', method: 'POST', path: () => '/conferences', body: {}, field: 'name' },
    {
      name: 'create with a blank name',
      method: 'POST',
      path: () => '/conferences',
      body: { name: '  ' },
      field: 'name',
    },
    {
      name: 'create with an unknown field',
      method: 'POST',
      path: () => '/conferences',
      body: { name: 'x', colour: 'red' },
      field: 'colour',
    },
    {
      name: 'create with ownerId (it comes from the token)',
      method: 'POST',
      path: () => '/conferences',
      body: { name: 'x', ownerId: 'someone-else' },
      field: 'ownerId',
    },
    {
      name: 'create with a too short time-to-live',
      method: 'POST',
      path: () => '/conferences',
      body: { name: 'x', ttlSeconds: 10 },
      field: 'ttlSeconds',
    },
    {
      name: 'create with an unknown join policy',
      method: 'POST',
      path: () => '/conferences',
      body: { name: 'x', joinPolicy: 'everyone' },
      field: 'joinPolicy',
    },
    {
      name: 'create with a non-JSON body',
      method: 'POST',
      path: () => '/conferences',
      body: '{"name": ',
      field: 'body',
    },
    {
      name: 'patch with nothing to change',
      method: 'PATCH',
      path: () => `/conferences/${id}`,
      body: {},
      field: 'body',
    },
    {
      name: 'patch with a wrong type',
      method: 'PATCH',
      path: () => `/conferences/${id}`,
      body: { ttlSeconds: 'long' },
      field: 'ttlSeconds',
    },
    {
      name: 'create with an IM account id that cannot be one',
      method: 'POST',
      path: () => '/conferences',
      body: { name: 'x', ownerImAccountId: 'my-phone' },
      field: 'ownerImAccountId',
    },
    {
      name: 'a conference id that cannot be one',
      method: 'GET',
      path: () => '/conferences/Not_An_Id',
      field: 'id',
    },
    {
      name: 'a participant id that is not a UUID',
      method: 'DELETE',
      path: () => `/conferences/${id}/participants/42`,
      field: 'participantId',
    },
    {
      name: 'invite nobody',
      method: 'POST',
      path: () => `/conferences/${id}/participants`,
      body: { participants: [] },
      field: 'participants',
    },
    {
      name: 'invite without an address',
      method: 'POST',
      path: () => `/conferences/${id}/participants`,
      body: { participants: [{ network: 'xmpp' }] },
      field: 'participants.0.address',
    },
    {
      name: 'invite with an unknown field in an entry',
      method: 'POST',
      path: () => `/conferences/${id}/participants`,
      body: { participants: [{ network: 'xmpp', address: 'a@example.org', role: 'admin' }] },
      field: 'participants.0.role',
    },
    {
      name: 'invite more than 500 at once',
      method: 'POST',
      path: () => `/conferences/${id}/participants`,
      body: {
        participants: Array.from({ length: 501 }, (_, i) => ({
          network: 'xmpp',
          address: `u${i}@example.org`,
        })),
      },
      field: 'participants',
    },
    {
      name: 'history with limit 0',
      method: 'GET',
      path: () => `/conferences/${id}/history?limit=0`,
      field: 'limit',
    },
    {
      name: 'history with a limit that is not a number',
      method: 'GET',
      path: () => `/conferences/${id}/history?limit=many`,
      field: 'limit',
    },
    {
      name: 'history since a non-date',
      method: 'GET',
      path: () => `/conferences/${id}/history?since=yesterday`,
      field: 'since',
    },
    {
      name: 'history with until before since',
      method: 'GET',
      path: () => `/conferences/${id}/history?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`,
      field: 'until',
    },
    {
      name: 'history with an unknown parameter',
      method: 'GET',
      path: () => `/conferences/${id}/history?page=2`,
      field: 'page',
    },
    {
      name: 'history with empty search words',
      method: 'GET',
      path: () => `/conferences/${id}/history?q=`,
      field: 'q',
    },
  ];

  it.each(cases)('400 for $name', async ({ method, path, body, field }) => {
    const answer = await api(method, path(), owner.token, body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ type: 'urn:parley:problem:validation-failed', status: 400, field });
    expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.js|stack/i);
  });

  it('changes nothing when a request is refused', async () => {
    expect(expectStatus(await api('GET', `/conferences/${id}`, owner.token), 200)).toMatchObject({
      name: 'Strict',
      state: 'draft',
      participantCount: 0,
    });
  });
});
