/**
 * The owner's history endpoints over HTTP against the real accounts, api-gateway, conference-core
 * and archive (NATS + PostgreSQL): messages sent to a conference bot — published to IM_INBOUND as a
 * network gateway does — are read back page by page with cursors, searched, filtered by time, and
 * exported as NDJSON.
 */
import { JetStreamBus } from '@parley/bus';
import { newEnvelope, streams, subjects, type ConferenceEventV1, type ImInboundV1 } from '@parley/contracts';
import { waitFor } from '@parley/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOwner, startStack, type Stack, type TestOwner } from './support/stack.js';

let stack: Stack;
let owner: TestOwner;
let bus: JetStreamBus;

beforeAll(async () => {
  stack = await startStack({ archive: true });
  owner = await createOwner(stack, 'historian');
  bus = stack.gateway.get(JetStreamBus);
});

afterAll(async () => {
  await stack?.close();
});

const api = (method: string, path: string, body?: unknown) =>
  stack.request(method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });

/** What a network gateway publishes when `from` sends `body` to the conference's bot. */
async function send(conferenceId: string, from: string, body: string) {
  const event: ImInboundV1 = { ...newEnvelope(), kind: 'message', network: 'xmpp', conferenceId, from, body };
  await bus.publish(streams.imInbound(), subjects.imInbound('xmpp', conferenceId), event);
}

async function history(
  conferenceId: string,
  query = '',
): Promise<{ events: ConferenceEventV1[]; nextCursor: string | null }> {
  const answer = await api('GET', `/conferences/${conferenceId}/history${query}`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

/** Follows nextCursor from the first page to the last. */
async function walk(conferenceId: string, query: string) {
  const pages: ConferenceEventV1[][] = [];
  let cursor: string | null = null;
  do {
    const page = await history(
      conferenceId,
      `?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    pages.push(page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

async function exportLines(conferenceId: string) {
  const response = await fetch(`${stack.baseUrl}/api/v1/conferences/${conferenceId}/history/export`, {
    headers: { authorization: `Bearer ${owner.token}` },
  });
  const text = await response.text();
  return {
    response,
    text,
    events: text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ConferenceEventV1),
  };
}

describe('the archive of a conference, for its owner', () => {
  let id: string;
  let all: ConferenceEventV1[];
  const bodies = ['good morning', 'who brings the banana bread?', 'me', 'great, thanks', 'see you at ten'];

  beforeAll(async () => {
    const created = await api('POST', '/conferences', { name: 'Archive walk' });
    id = created.body.id;
    await api('POST', `/conferences/${id}/participants`, {
      participants: [
        { network: 'xmpp', address: 'alice@example.org', displayName: 'alice' },
        { network: 'xmpp', address: 'bob@example.org', displayName: 'bob' },
      ],
    });
    expect((await api('POST', `/conferences/${id}/start`)).status).toBe(200);
    await send(id, 'alice@example.org', '/join');
    await send(id, 'bob@example.org', '/join');
    for (const body of bodies) await send(id, 'alice@example.org', body);
    all = await waitFor(
      `the ${bodies.length} messages of ${id} in the archive`,
      async () => {
        const { events } = await history(id, '?limit=1000');
        return events.filter((e) => e.type === 'message-accepted').length === bodies.length && events;
      },
      20_000,
      100,
    );
  });

  it('lists messages and notices in seq order', () => {
    const messages = all.filter((e) => e.type === 'message-accepted');
    expect(messages.map((e) => e.body)).toEqual(bodies);
    expect(messages.every((e) => e.sender.address === 'alice@example.org')).toBe(true);
    expect(all.map((e) => e.type)).toEqual(
      expect.arrayContaining(['conference-started', 'participant-joined', 'message-accepted']),
    );
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('pages with cursors: every event once, in order, no page over the limit', async () => {
    const pages = await walk(id, 'limit=2');
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(all.length / 2));
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    expect(pages.flat().map((e) => e.seq)).toEqual(all.map((e) => e.seq));
  });

  it('searches message words, also page by page', async () => {
    const found = await history(id, '?q=banana');
    expect(found.events.map((e) => e.type === 'message-accepted' && e.body)).toEqual([
      'who brings the banana bread?',
    ]);
    const thanks = await walk(id, `q=${encodeURIComponent('great thanks')}&limit=1`);
    expect(thanks.flat().map((e) => e.type === 'message-accepted' && e.body)).toEqual(['great, thanks']);
    expect((await history(id, '?q=pineapple')).events).toEqual([]);
  });

  it('filters by time: since is inclusive, until exclusive', async () => {
    const messages = all.filter((e) => e.type === 'message-accepted');
    const pivot = messages[2]!.occurredAt;
    const since = await history(id, `?since=${encodeURIComponent(pivot)}&limit=1000`);
    expect(since.events.length).toBeGreaterThan(0);
    expect(since.events.every((e) => Date.parse(e.occurredAt) >= Date.parse(pivot))).toBe(true);
    const until = await history(id, `?until=${encodeURIComponent(pivot)}&limit=1000`);
    expect(until.events.every((e) => Date.parse(e.occurredAt) < Date.parse(pivot))).toBe(true);
    // Together they are the whole archive, each event on one side only.
    expect([...until.events, ...since.events].map((e) => e.seq)).toEqual(all.map((e) => e.seq));
  });

  it('exports the whole archive as NDJSON, one event per line', async () => {
    const { response, text, events } = await exportLines(id);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    expect(text.endsWith('\n')).toBe(true);
    expect(events).toEqual(all);
  });
});

describe('a long archive', () => {
  const total = 1_201;
  let id: string;

  it('streams every page of the archive export RPC, in seq order', async () => {
    // 1,201 events span three export pages. They are published to CONF_EVENTS exactly as
    // conference-core publishes them (a conference that was never started has no events of its own),
    // which is far cheaper than relaying that many messages.
    const created = await api('POST', '/conferences', { name: 'Long archive' });
    id = created.body.id;
    const sender = { network: 'xmpp' as const, address: 'alice@example.org', displayName: 'alice' };
    const start = Date.now() - total * 1000;
    for (let seq = 1; seq <= total; seq++) {
      const event: ConferenceEventV1 = {
        ...newEnvelope(new Date(start + seq * 1000)),
        conferenceId: id,
        seq,
        type: 'message-accepted',
        sender,
        body: `line ${seq}`,
      };
      await bus.publish(streams.confEvents(), subjects.confEvents(id), event);
    }
    const exported = await waitFor(
      `${total} events of ${id} in the export`,
      async () => {
        const result = await exportLines(id);
        return result.events.length === total && result;
      },
      30_000,
      200,
    );
    expect(exported.response.status).toBe(200);
    // Sent as it is read from the archive, not assembled first: chunked, with no length announced.
    expect(exported.response.headers.get('transfer-encoding')).toBe('chunked');
    expect(exported.response.headers.get('content-length')).toBeNull();
    expect(exported.events.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(exported.events.at(-1)).toMatchObject({ type: 'message-accepted', body: `line ${total}` });
  });

  it('pages through all 1,201 events with cursors, without gaps or repeats', async () => {
    const pages = await walk(id, 'limit=100');
    expect(pages).toHaveLength(13);
    expect(pages.every((page) => page.length <= 100)).toBe(true);
    expect(pages.flat().map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('exports an empty archive as an empty body', async () => {
    const created = await api('POST', '/conferences', { name: 'Silent' });
    const { response, text } = await exportLines(created.body.id);
    expect(response.status).toBe(200);
    expect(text).toBe('');
  });
});
