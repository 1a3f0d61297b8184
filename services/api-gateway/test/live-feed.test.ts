/**
 * The live feed (GET /api/v1/conferences/{id}/events) against the real services: conference-core
 * publishes the facts on the real NATS JetStream, the gateway streams them as server-sent events.
 * The facts here come from the owner's own actions (invitations, start, removal, close) so the test
 * needs no IM network; test/e2e/console.test.ts shows real XMPP messages arriving in a browser.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_CLAIMS } from '@parley/contracts';
import { waitFor } from '@parley/testing';
import { createOwner, startStack, type Stack, type TestOwner } from './support/stack.js';
import { SseClient } from './support/sse.js';

let stack: Stack;
let owner: TestOwner;
const open: SseClient[] = [];

beforeAll(async () => {
  // A short keep-alive so the test sees one without waiting 15 s.
  stack = await startStack({ conferences: true, gatewayEnv: { PARLEY_FEED_KEEPALIVE_MS: '300' } });
  owner = await createOwner(stack, 'feed-owner');
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await stack?.close();
});

async function feed(conferenceId: string, headers: Record<string, string> = {}, token = owner.token) {
  const client = await SseClient.open(`${stack.baseUrl}/api/v1/conferences/${conferenceId}/events`, {
    authorization: `Bearer ${token}`,
    ...headers,
  });
  open.push(client);
  return client;
}

async function newConference(name: string): Promise<string> {
  const answer = await stack.request('POST', '/api/v1/conferences', { token: owner.token, body: { name } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.id;
}

let invitees = 0;
async function invite(conferenceId: string, count: number): Promise<string[]> {
  const addresses = Array.from({ length: count }, () => `guest${++invitees}@example.org`);
  const answer = await stack.request('POST', `/api/v1/conferences/${conferenceId}/participants`, {
    token: owner.token,
    body: { participants: addresses.map((address) => ({ network: 'xmpp', address })) },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return addresses;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the live feed of a conference', () => {
  it('is refused without a token, for someone else’s conference, and with a malformed Last-Event-ID', async () => {
    const id = await newConference('Private feed');
    const anonymous = await SseClient.open(`${stack.baseUrl}/api/v1/conferences/${id}/events`, {});
    expect(anonymous.status).toBe(401);
    const other = await createOwner(stack, 'feed-stranger');
    const stranger = await feed(id, {}, other.token);
    expect(stranger.status).toBe(404);
    expect(stranger.body).toMatchObject({ type: 'urn:parley:problem:not-found' });
    const malformed = await feed(id, { 'last-event-id': 'yesterday' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ field: 'Last-Event-ID' });
  });

  it('streams every fact as it happens, with its seq as the event id, from the start when asked with 0', async () => {
    const id = await newConference('Live sync');
    const [first] = await invite(id, 1);
    const client = await feed(id, { 'last-event-id': '0' });
    expect(client.status).toBe(200);
    expect(client.contentType).toContain('text/event-stream');
    const invited = await client.waitForEvent(
      'the first invitation',
      (e) => e.event === 'participant-invited',
    );
    expect(invited).toMatchObject({
      id: '1',
      data: { type: 'participant-invited', seq: 1, conferenceId: id, participant: { address: first } },
    });

    const started = await stack.request('POST', `/api/v1/conferences/${id}/start`, { token: owner.token });
    expect(started.status).toBe(200);
    await client.waitForEvent('the start', (e) => e.event === 'conference-started');
    const [second] = await invite(id, 1);
    await client.waitForEvent('the second invitation', (e) => e.data.participant?.address === second);
    const closed = await stack.request('POST', `/api/v1/conferences/${id}/close`, { token: owner.token });
    expect(closed.status).toBe(200);
    const ended = await client.waitForEvent('the end', (e) => e.event === 'conference-terminated');
    expect(ended.data).toMatchObject({ reason: 'closed' });
    expect(client.events.map((e) => e.event)).toEqual([
      'participant-invited',
      'conference-started',
      'participant-invited',
      'conference-terminated',
    ]);
    expect(client.seqs()).toEqual([1, 2, 3, 4]);

    // Operators see the open feeds in /metrics; a client that goes away is no longer counted.
    const openFeeds = async () =>
      Number(
        /^parley_live_feeds_open (\d+)$/m.exec(String((await stack.request('GET', '/metrics')).body))?.[1],
      );
    const before = await openFeeds();
    expect(before).toBeGreaterThanOrEqual(1);
    await client.close();
    await waitFor('the closed feed to be uncounted', async () =>
      (await openFeeds()) === before - 1 ? true : undefined,
    );
  });

  it('starts with the next fact when no Last-Event-ID is sent, and keeps a quiet connection alive', async () => {
    const id = await newConference('Quiet feed');
    await invite(id, 2);
    // Facts reach the bus just after the owner's request is answered (conference-core's outbox):
    // make sure these two are there, so "the next fact" is the third.
    const everything = await feed(id, { 'last-event-id': '0' });
    await waitFor('the first two facts on the bus', () =>
      everything.seqs().length === 2 ? true : undefined,
    );
    const client = await feed(id);
    await waitFor('a keep-alive comment', () => client.comments.includes('keep-alive'));
    const [third] = await invite(id, 1);
    await client.waitForEvent('the third invitation', (e) => e.data.participant?.address === third);
    expect(client.seqs()).toEqual([3]);
  });

  it('resumes after a disconnect from Last-Event-ID without gaps or repeats', async () => {
    const id = await newConference('Resumed feed');
    await invite(id, 5);
    const before = await feed(id, { 'last-event-id': '0' });
    await waitFor('the first five facts', () => (before.seqs().length >= 5 ? true : undefined));
    const lastSeen = before.lastEventId()!;
    await before.close();
    expect(before.seqs()).toEqual(range(1, 5));

    // Facts that happen while the owner is away.
    await invite(id, 3);
    const removed = await stack.request('GET', `/api/v1/conferences/${id}/participants`, {
      token: owner.token,
    });
    const someone = removed.body.items[0].id as string;
    const removal = await stack.request('DELETE', `/api/v1/conferences/${id}/participants/${someone}`, {
      token: owner.token,
    });
    expect(removal.status).toBe(200);

    const after = await feed(id, { 'last-event-id': lastSeen });
    await after.waitForEvent('the removal', (e) => e.event === 'participant-removed');
    // And facts after the reconnect keep coming on the same connection.
    await invite(id, 2);
    await waitFor('the facts after the reconnect', () => (after.seqs().length >= 6 ? true : undefined));
    expect(after.seqs()).toEqual(range(6, 11));
    expect([...before.seqs(), ...after.seqs()]).toEqual(range(1, 11));
  });

  it('ends when the token that opened it expires, and a reconnect with it is refused', async () => {
    const id = await newConference('Expiring feed');
    const shortLived = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(owner.id)
      .setIssuer(ACCESS_TOKEN_CLAIMS.issuer)
      .setAudience(ACCESS_TOKEN_CLAIMS.audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(stack.secrets.jwtSecret));
    const client = await feed(id, { 'last-event-id': '0' }, shortLived);
    expect(client.status).toBe(200);
    await waitFor('the feed to end at the token’s expiry', () => client.ended, 10_000);
    const again = await feed(id, { 'last-event-id': '0' }, shortLived);
    expect(again.status).toBe(401);
  });
});
