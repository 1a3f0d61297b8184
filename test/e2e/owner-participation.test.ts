/**
 * Issue 15, the owner's side of a conference, end to end over REST with real XMPP clients:
 * - an `owner-contacts` conference: someone in the owner's imported contacts joins by /join
 *   without an invitation (recorded as self-invited); a stranger is refused;
 * - a conference created with the owner's XMPP account: the owner's own client gets the bot's
 *   request and the invitation, /list marks the owner, and the owner's /remove works from the IM
 *   client while the same command from another participant is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
import { setRosterItems, startImportServices, type ImportServices } from './support/contact-import.js';

describe('the owner’s contacts and the owner in their own conference', () => {
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  let stack: Stack;
  let services: ImportServices;
  let owner: TestOwner;
  const users = {} as Record<'olga' | 'carl' | 'stan' | 'ann' | 'ben', XmppTestUser>;
  const clients = {} as Record<keyof typeof users, XmppTestClient>;
  let xmppAccountId: string;

  const api = (method: string, path: string, body?: unknown) =>
    stack.request(method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });
  const botOf = (conferenceId: string) => `${conferenceId}@${testEnv.xmpp().componentDomain}`;

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    stack = await startStack({ conferences: true });
    services = await startImportServices();
    owner = await createOwner(stack, 'host');
    for (const name of ['olga', 'carl', 'stan', 'ann', 'ben'] as const) {
      users[name] = await createXmppUser(name);
      clients[name] = await XmppTestClient.connect(users[name], { autoAcceptSubscriptions: true });
    }
    // olga is the owner's own XMPP account; carl is in its roster, stan is not.
    await setRosterItems(clients.olga, [{ jid: users.carl.jid, name: 'Carl', groups: ['Friends'] }]);
    xmppAccountId = expectStatus(
      await api('POST', '/im-accounts', {
        network: 'xmpp',
        address: users.olga.jid,
        password: users.olga.password,
      }),
      201,
    ).id;
    const job = expectStatus(await api('POST', `/im-accounts/${xmppAccountId}/imports`), 202);
    await waitFor(
      'the contact import',
      async () =>
        expectStatus(await api('GET', `/imports/${job.id}`), 200).state === 'done' ? true : undefined,
      30_000,
      100,
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(Object.values(clients).map((c) => c?.stop()));
    await services?.close();
    await stack?.close();
    await releaseComponentDomain?.();
  });

  it('lets a contact of the owner /join an owner-contacts conference by themselves, and refuses a stranger', async () => {
    const conference = expectStatus(
      await api('POST', '/conferences', { name: 'Friends only', joinPolicy: 'owner-contacts' }),
      201,
    );
    expectStatus(await api('POST', `/conferences/${conference.id}/start`), 200);
    const bot = botOf(conference.id);
    await clients.carl.sendMessage(bot, '/join');
    await clients.carl.waitForMessage(bot, /^You joined "Friends only"/);
    await clients.stan.sendMessage(bot, '/join');
    await clients.stan.waitForMessage(
      bot,
      'Sorry, "Friends only" is a private conference: only invited participants can take part.',
    );
    const { items } = expectStatus(await api('GET', `/conferences/${conference.id}/participants`), 200);
    expect(items).toEqual([
      expect.objectContaining({
        address: users.carl.jid,
        state: 'joined',
        invitedBy: expect.objectContaining({ address: users.carl.jid }),
      }),
    ]);
  });

  it('makes the owner’s XMPP account a participant marked as the owner, who alone may /remove from the IM client', async () => {
    const conference = expectStatus(
      await api('POST', '/conferences', { name: 'Hosted', ownerImAccountId: xmppAccountId }),
      201,
    );
    expectStatus(
      await api('POST', `/conferences/${conference.id}/participants`, {
        participants: [
          { network: 'xmpp', address: users.ann.jid },
          { network: 'xmpp', address: users.ben.jid },
        ],
      }),
      201,
    );
    expectStatus(await api('POST', `/conferences/${conference.id}/start`), 200);
    const bot = botOf(conference.id);
    // The owner's own client is asked to accept the bot and invited, like everyone else.
    await clients.olga.waitForStanza(
      'the bot’s subscription request to the owner',
      (s) => s.is('presence') && s.attrs.type === 'subscribe' && s.attrs.from === bot,
    );
    await clients.olga.waitForMessage(bot, /^You are invited to the conference "Hosted"/);
    for (const who of ['olga', 'ann', 'ben'] as const) {
      await clients[who].sendMessage(bot, '/join');
      await clients[who].waitForMessage(bot, /^You joined "Hosted"/);
    }
    const { items } = expectStatus(await api('GET', `/conferences/${conference.id}/participants`), 200);
    expect(items.find((p: { address: string }) => p.address === users.olga.jid)).toMatchObject({
      isOwner: true,
    });
    await clients.ann.sendMessage(bot, '/list');
    const list = await clients.ann.waitForMessage(bot, /^Participants of "Hosted"/);
    expect(list).toContain(`${users.olga.username} (xmpp, owner): joined`);

    await clients.ann.sendMessage(bot, `/remove ${users.ben.username}`);
    await clients.ann.waitForMessage(bot, 'Only the owner of "Hosted" can /remove.');
    await clients.olga.sendMessage(bot, `/remove ${users.ben.username}`);
    await clients.olga.waitForMessage(bot, `Removed ${users.ben.username} (xmpp).`);
    await clients.ben.waitForMessage(bot, 'You were removed from the conference "Hosted" by its owner.');
    const after = expectStatus(await api('GET', `/conferences/${conference.id}/participants`), 200);
    expect(after.items.find((p: { address: string }) => p.address === users.ben.jid)).toMatchObject({
      state: 'removed',
    });
  });
});
