/**
 * "Load my contacts" (issue 15) over the REST API against the real Prosody and ngircd: an owner
 * whose XMPP roster holds 50 contacts in 3 groups (set up through a real client) imports it with
 * names and groups while their own client stays online; a re-import after a roster change shows
 * the change and no duplicates; a wrong stored password and an IRC account end their jobs with
 * clear reasons; the progress feed shows start, progress and end; 20 contacts invited by id in one
 * request become 20 invitees who each get the bot's request when the conference starts.
 *
 * Prosody accepts one component connection per domain, so the file holds the component-domain
 * lock while gateway-xmpp runs.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient } from '@parley/bus';
import { contactsRpc } from '@parley/contracts';
import {
  bare,
  createXmppUser,
  holdXmppComponentDomain,
  testEnv,
  waitFor,
  XmppTestClient,
  type XmppTestUser,
} from '@parley/testing';
import {
  createOwner,
  expectStatus,
  startStack,
  type Stack,
  type TestOwner,
} from '../../services/api-gateway/test/support/stack.js';
import {
  readSse,
  removeRosterItem,
  setRosterItems,
  startImportServices,
  type ImportServices,
  type RosterEntry,
} from './support/contact-import.js';

const { domain } = testEnv.xmpp();
const REAL_CONTACTS = 20;

/** The owner's roster: 20 real users in "Team", 30 addresses in "Family" and "Friends"; one in two groups. */
function initialRoster(realUsers: XmppTestUser[]): RosterEntry[] {
  const tag = randomUUID().slice(0, 6);
  const team = realUsers.map((u, i) => ({ jid: u.jid, name: `Teammate ${i + 1}`, groups: ['Team'] }));
  const family = Array.from({ length: 10 }, (_, i) => ({
    jid: `family-${tag}-${i}@${domain}`,
    name: `Cousin ${i + 1}`,
    groups: i === 0 ? ['Family', 'Friends'] : ['Family'],
  }));
  const friends = Array.from({ length: 20 }, (_, i) => ({
    jid: `friend-${tag}-${i}@${domain}`,
    ...(i % 5 === 0 ? {} : { name: `Friend ${i + 1}` }),
    groups: ['Friends'],
  }));
  return [...team, ...family, ...friends];
}

describe('an owner imports their XMPP contacts and invites them', () => {
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  let stack: Stack;
  let services: ImportServices;
  let owner: TestOwner;
  let otherOwner: TestOwner;
  let ownerUser: XmppTestUser;
  let ownerClient: XmppTestClient;
  let sender: XmppTestClient;
  const realUsers: XmppTestUser[] = [];
  const realClients: XmppTestClient[] = [];
  let roster: RosterEntry[];
  let xmppAccountId: string;
  let firstImportId: string;

  const api = (who: TestOwner, method: string, path: string, body?: unknown) =>
    stack.request(method, `/api/v1${path}`, { token: who.token, ...(body === undefined ? {} : { body }) });
  const finished = (who: TestOwner, jobId: string) =>
    waitFor(
      `import ${jobId} to finish`,
      async () => {
        const job = expectStatus(await api(who, 'GET', `/imports/${jobId}`), 200);
        return job.state === 'done' || job.state === 'failed' ? job : undefined;
      },
      30_000,
      100,
    );
  const contacts = async (query = '') =>
    expectStatus(await api(owner, 'GET', `/contacts${query}`), 200).items as Array<{
      id: string;
      network: string;
      address: string;
      name: string | null;
      groups: string[];
    }>;

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    stack = await startStack({ conferences: true });
    services = await startImportServices();
    owner = await createOwner(stack, 'importer');
    otherOwner = await createOwner(stack, 'stranger');
    ownerUser = await createXmppUser('owner');
    for (let i = 0; i < REAL_CONTACTS; i += 5) {
      realUsers.push(...(await Promise.all([0, 1, 2, 3, 4].map(() => createXmppUser('contact')))));
    }
    ownerClient = await XmppTestClient.connect(ownerUser, { resource: 'own-client' });
    sender = await XmppTestClient.connect(realUsers[0]!, { resource: 'sender' });
    roster = initialRoster(realUsers);
    await setRosterItems(ownerClient, roster);
    xmppAccountId = expectStatus(
      await api(owner, 'POST', '/im-accounts', {
        network: 'xmpp',
        address: ownerUser.jid,
        password: ownerUser.password,
      }),
      201,
    ).id;
  }, 300_000);

  afterAll(async () => {
    await Promise.all([ownerClient, sender, ...realClients].map((c) => c?.stop()));
    await services?.close();
    await stack?.close();
    await releaseComponentDomain?.();
  });

  it('imports 50 contacts with names and groups while the owner’s own client stays online', async () => {
    const queued = expectStatus(await api(owner, 'POST', `/im-accounts/${xmppAccountId}/imports`), 202);
    expect(queued).toMatchObject({ imAccountId: xmppAccountId, network: 'xmpp', address: ownerUser.jid });
    expect(['queued', 'running', 'done']).toContain(queued.state);
    firstImportId = queued.id;
    // A message to the owner while the import logs in as them reaches the owner's own client.
    await sender.sendMessage(ownerUser.jid, 'are you there during the import?');

    const job = await finished(owner, firstImportId);
    expect(job).toMatchObject({
      state: 'done',
      contactsRead: 50,
      contactsSaved: 50,
      counts: { added: 50, changed: 0, removed: 0, unchanged: 0 },
      failure: null,
    });
    await ownerClient.waitForMessage(realUsers[0]!.jid, 'are you there during the import?');
    await sender.sendMessage(ownerUser.jid, 'and after it?');
    await ownerClient.waitForMessage(realUsers[0]!.jid, 'and after it?');
    expect(ownerClient.xmpp.status).toBe('online');
    // The owner's session was never replaced: no stream error, no "conflict".
    expect(ownerClient.received.some((s) => s.is('error') || s.getChild('conflict'))).toBe(false);

    const saved = await contacts();
    expect(saved).toHaveLength(50);
    const byAddress = new Map(saved.map((c) => [c.address, c]));
    for (const entry of roster) {
      expect(byAddress.get(entry.jid), entry.jid).toMatchObject({
        network: 'xmpp',
        name: entry.name ?? null,
        groups: [...entry.groups].sort(),
      });
    }
    expect(await contacts('?group=Team')).toHaveLength(20);
    expect(await contacts('?group=Family')).toHaveLength(10);
    expect(await contacts('?group=Friends')).toHaveLength(21);
    expect((await contacts('?q=cousin%201')).map((c) => c.name).sort()).toEqual(['Cousin 1', 'Cousin 10']);
    expect(await contacts('?network=irc')).toHaveLength(0);
  });

  it('shows the progress as server-sent events: start, progress, end', async () => {
    const feed = await readSse(`${stack.baseUrl}/api/v1/imports/${firstImportId}/events`, owner.token);
    expect(feed.status).toBe(200);
    expect(feed.contentType).toMatch(/^text\/event-stream/);
    const types = feed.events.map((e) => e.event);
    expect(types[0]).toBe('start');
    expect(types.at(-1)).toBe('end');
    expect(types.filter((t) => t === 'progress').length).toBeGreaterThanOrEqual(1);
    expect(feed.events.map((e) => Number(e.id))).toEqual(feed.events.map((_, i) => i + 1));
    const read = feed.events.find((e) => e.event === 'progress' && e.data.job.contactsRead === 50);
    expect(read, 'a progress event with the 50 contacts read').toBeDefined();
    expect(feed.events.at(-1)!.data.job).toMatchObject({ state: 'done', counts: { added: 50 } });
  });

  it('follows a running import live from its start to its end', async () => {
    const queued = expectStatus(await api(owner, 'POST', `/im-accounts/${xmppAccountId}/imports`), 202);
    const feed = await readSse(`${stack.baseUrl}/api/v1/imports/${queued.id}/events`, owner.token);
    expect(feed.events.map((e) => e.event)).toEqual(['start', 'progress', 'end']);
    expect(feed.events.at(-1)!.data.job).toMatchObject({
      state: 'done',
      counts: { added: 0, changed: 0, removed: 0, unchanged: 50 },
    });
  });

  it('re-imports after a roster change: the change shows, nothing is duplicated', async () => {
    const dropped = roster.find((e) => e.jid.startsWith('friend-'))!;
    const renamed = roster.find((e) => e.jid.startsWith('family-'))!;
    const added = {
      jid: `newcomer-${randomUUID().slice(0, 6)}@${domain}`,
      name: 'Newcomer',
      groups: ['Friends'],
    };
    await removeRosterItem(ownerClient, dropped.jid);
    await setRosterItems(ownerClient, [{ ...renamed, name: 'Cousin Renamed' }, added]);

    const queued = expectStatus(await api(owner, 'POST', `/im-accounts/${xmppAccountId}/imports`), 202);
    const job = await finished(owner, queued.id);
    expect(job).toMatchObject({
      state: 'done',
      contactsRead: 50,
      counts: { added: 1, changed: 1, removed: 1, unchanged: 48 },
    });
    const saved = await contacts();
    expect(saved).toHaveLength(50);
    expect(new Set(saved.map((c) => c.address)).size).toBe(50);
    const addresses = saved.map((c) => c.address);
    expect(addresses).not.toContain(dropped.jid);
    expect(saved.find((c) => c.address === added.jid)).toMatchObject({
      name: 'Newcomer',
      groups: ['Friends'],
    });
    expect(saved.find((c) => c.address === renamed.jid)).toMatchObject({ name: 'Cousin Renamed' });
  });

  it('answers conference-core’s questions "is this address one of the owner’s contacts?" and "whose contact is it?"', async () => {
    const rpc = RpcClient.create(testEnv.natsUrl());
    await rpc.connect();
    try {
      const teammate = realUsers[3]!.jid;
      expect(
        await rpc.call(contactsRpc.isContact, {
          ownerId: owner.id,
          network: 'xmpp',
          address: teammate.toUpperCase(),
        }),
      ).toEqual({ isContact: true, displayName: 'Teammate 4' });
      const unnamed = (await contacts()).find((c) => c.name === null)!;
      expect(
        await rpc.call(contactsRpc.isContact, {
          ownerId: owner.id,
          network: 'xmpp',
          address: unnamed.address,
        }),
      ).toEqual({ isContact: true });
      expect(
        await rpc.call(contactsRpc.isContact, {
          ownerId: owner.id,
          network: 'xmpp',
          address: `nobody@${domain}`,
        }),
      ).toEqual({ isContact: false });
      expect(
        await rpc.call(contactsRpc.isContact, { ownerId: owner.id, network: 'irc', address: teammate }),
      ).toEqual({ isContact: false });
      expect(
        await rpc.call(contactsRpc.isContact, { ownerId: otherOwner.id, network: 'xmpp', address: teammate }),
      ).toEqual({ isContact: false });
      expect(
        await rpc.call(contactsRpc.ownersWithContact, { network: 'xmpp', address: teammate.toUpperCase() }),
      ).toEqual({ ownerIds: [owner.id] });
      expect(
        await rpc.call(contactsRpc.ownersWithContact, { network: 'xmpp', address: `nobody@${domain}` }),
      ).toEqual({ ownerIds: [] });
    } finally {
      await rpc.close();
    }
  });

  it('fails the job with "wrong password" when the stored password is wrong', async () => {
    const wrongUser = await createXmppUser('wrongpw');
    const account = expectStatus(
      await api(owner, 'POST', '/im-accounts', {
        network: 'xmpp',
        address: wrongUser.jid,
        password: `${wrongUser.password}-not`,
      }),
      201,
    );
    const queued = expectStatus(await api(owner, 'POST', `/im-accounts/${account.id}/imports`), 202);
    const job = await finished(owner, queued.id);
    expect(job.state).toBe('failed');
    expect(job.failure.code).toBe('wrong-password');
    expect(job.failure.message).toMatch(/^wrong password/);
    expect(job.counts).toBeNull();
  });

  it('fails the job with "server unreachable" when the account’s XMPP server cannot be reached', async () => {
    // The gateway reaches every account at the test Prosody; one on a domain Prosody does not serve
    // is answered with a stream error, which is also "server unreachable" to the owner.
    const account = expectStatus(
      await api(owner, 'POST', '/im-accounts', {
        network: 'xmpp',
        address: `nobody@unserved-${randomUUID().slice(0, 6)}.example`,
        password: 'whatever-password',
      }),
      201,
    );
    const queued = expectStatus(await api(owner, 'POST', `/im-accounts/${account.id}/imports`), 202);
    const job = await finished(owner, queued.id);
    expect(job).toMatchObject({ state: 'failed', failure: { code: 'server-unreachable' } });
    expect(job.failure.message).toMatch(/^server unreachable/);
  });

  it('ends an IRC import with the clear result "not supported: IRC has no contact lists"', async () => {
    const account = expectStatus(
      await api(owner, 'POST', '/im-accounts', {
        network: 'irc',
        address: `importer@${testEnv.irc().host}`,
        password: 'irc-password',
      }),
      201,
    );
    const queued = expectStatus(await api(owner, 'POST', `/im-accounts/${account.id}/imports`), 202);
    const job = await finished(owner, queued.id);
    expect(job).toMatchObject({
      state: 'failed',
      failure: { code: 'not-supported', message: 'not supported: IRC has no contact lists' },
    });
  });

  it('keeps imports and contacts to their owner', async () => {
    expect((await api(otherOwner, 'GET', `/imports/${firstImportId}`)).status).toBe(404);
    expect((await api(otherOwner, 'GET', `/imports/${firstImportId}/events`)).status).toBe(404);
    expect((await api(otherOwner, 'POST', `/im-accounts/${xmppAccountId}/imports`)).status).toBe(404);
    expect(expectStatus(await api(otherOwner, 'GET', '/contacts'), 200).items).toEqual([]);
    expect((await stack.request('GET', '/api/v1/contacts')).status).toBe(401);
    expect((await stack.request('POST', `/api/v1/im-accounts/${xmppAccountId}/imports`)).status).toBe(401);
  });

  it('invites 20 contacts by id in one request; starting the conference sends each the bot’s request', async () => {
    realClients.push(
      ...(await Promise.all(
        realUsers.slice(1).map((u) => XmppTestClient.connect(u, { resource: 'invitee' })),
      )),
    );
    const clientOf = new Map([
      [realUsers[0]!.jid, sender],
      ...realClients.map((c) => [c.user.jid, c] as const),
    ]);
    const team = await contacts('?group=Team');
    expect(team).toHaveLength(20);
    const conference = expectStatus(
      await api(owner, 'POST', '/conferences', { name: 'Team import', subject: 'Hi' }),
      201,
    );

    const strangersContact = randomUUID();
    const answer = await api(owner, 'POST', `/conferences/${conference.id}/participants`, {
      contactIds: [...team.map((c) => c.id), strangersContact],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.added).toHaveLength(20);
    expect(answer.body.errors).toEqual([
      {
        index: 20,
        field: 'contactIds.20',
        contactId: strangersContact,
        code: 'not-found',
        message: 'no saved contact with this id',
      },
    ]);
    const participants = expectStatus(
      await api(owner, 'GET', `/conferences/${conference.id}/participants`),
      200,
    ).items;
    expect(participants).toHaveLength(20);
    expect(participants.map((p: { address: string }) => p.address).sort()).toEqual(
      team.map((c) => c.address).sort(),
    );
    expect(participants.every((p: { state: string }) => p.state === 'invited')).toBe(true);

    // Another owner cannot invite this owner's contacts.
    const theirs = expectStatus(
      await api(otherOwner, 'POST', '/conferences', { name: 'Not yours', subject: 'x' }),
      201,
    );
    const refused = expectStatus(
      await api(otherOwner, 'POST', `/conferences/${theirs.id}/participants`, { contactIds: [team[0]!.id] }),
      200,
    );
    expect(refused).toMatchObject({ added: [], errors: [{ index: 0, code: 'not-found' }] });

    expectStatus(await api(owner, 'POST', `/conferences/${conference.id}/start`), 200);
    // The component domain this file holds (set by holdXmppComponentDomain).
    const bot = `${conference.id}@${testEnv.xmpp().componentDomain}`;
    await Promise.all(
      team.map((contact) =>
        clientOf
          .get(contact.address)!
          .waitForStanza(
            `the bot's subscription request`,
            (s) => s.is('presence') && s.attrs.type === 'subscribe' && bare(s.attrs.from) === bot,
            20_000,
          ),
      ),
    );
  });

  it('rejects a body with both forms, or neither, naming the field', async () => {
    const conference = expectStatus(
      await api(owner, 'POST', '/conferences', { name: 'Bodies', subject: 'x' }),
      201,
    );
    const both = await api(owner, 'POST', `/conferences/${conference.id}/participants`, {
      contactIds: [randomUUID()],
      participants: [{ network: 'xmpp', address: 'a@example.org' }],
    });
    expect(both.status).toBe(400);
    expect(both.body.field).toBe('body');
    const badId = await api(owner, 'POST', `/conferences/${conference.id}/participants`, {
      contactIds: ['not-a-uuid'],
    });
    expect(badId.status).toBe(400);
    expect(badId.body.field).toBe('contactIds.0');
  });
});
