/**
 * Issue 16's acceptance in a real browser: an owner uses the console (Debian's Chromium driven by
 * playwright-core) against the real services — api-gateway serving the console, accounts with a
 * real SMTP listener, conference-core, archive, presence and gateway-xmpp on the real NATS,
 * PostgreSQL and Prosody — while two real XMPP clients accept the bot, /join and talk.
 *
 * The owner registers, confirms by following the link in the mail, logs in, creates a conference,
 * invites two XMPP users and one bad address (rejected, with its reason on the page), starts it;
 * the users' messages appear in the console's live feed; the archive search finds one; the export
 * downloads. A second scenario cuts the browser's connection and restores it: the feed resumes
 * without gaps or repeats. Screenshots of the main pages go to test/e2e/.console-screenshots/
 * (the latest are copied to docs/console/ by hand).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createXmppUser,
  holdXmppComponentDomain,
  serviceTestEnv,
  startTestService,
  testEnv,
  waitFor,
  XmppTestClient,
  type XmppTestUser,
} from '@parley/testing';
import { AppModule as PresenceModule } from '../../services/presence/src/app.module.js';
import { loadServiceConfig as loadPresenceConfig } from '../../services/presence/src/config.js';
import { AppModule as XmppGatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadXmppGatewayConfig } from '../../services/gateway-xmpp/src/config.js';
import {
  createOwner,
  newEmail,
  startStack,
  type Stack,
} from '../../services/api-gateway/test/support/stack.js';
import { CuttableProxy, launchBrowser, type Browser } from './support/browser.js';

const SCREENSHOTS = fileURLToPath(new URL('./.console-screenshots/', import.meta.url));
/** How long a page may take to show something the services have already done. */
const UI_WAIT = 15_000;

let releaseComponentDomain: (() => Promise<void>) | undefined;
let stack: Stack;
let presence: NestFastifyApplication;
let xmppGateway: NestFastifyApplication;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  releaseComponentDomain = await holdXmppComponentDomain();
  stack = await startStack({ archive: true });
  // The mail must link to this gateway's console; its port is known only now.
  await stack.restartAccounts({ PARLEY_PUBLIC_URL: stack.baseUrl });
  presence = await startTestService(
    'presence',
    PresenceModule.forRoot(loadPresenceConfig(serviceTestEnv('presence'))),
  );
  xmppGateway = await startTestService(
    'gateway-xmpp',
    XmppGatewayModule.forRoot(loadXmppGatewayConfig(serviceTestEnv('gateway-xmpp'))),
  );
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await xmppGateway?.close();
  await presence?.close();
  await stack?.close();
  await releaseComponentDomain?.();
});

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const heading = (page: Page, name: string) =>
  page.getByRole('heading', { level: 1, name }).waitFor({ timeout: UI_WAIT });

describe('an owner holds a conference from the console', () => {
  let page: Page;
  const email = newEmail('console');
  const password = 'console password 1';
  const users = {} as Record<'alice' | 'bob', XmppTestUser>;
  const clients = {} as Record<'alice' | 'bob', XmppTestClient>;
  let conferenceId: string;
  let bot: string;

  beforeAll(async () => {
    page = await browser.context.newPage();
    // Closing a conference and removing people ask for confirmation; the owner says yes.
    page.on('dialog', (dialog) => void dialog.accept());
    for (const who of ['alice', 'bob'] as const) {
      users[who] = await createXmppUser(who);
      clients[who] = await XmppTestClient.connect(users[who], { autoAcceptSubscriptions: true });
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(Object.values(clients).map((c) => c.stop()));
    await page?.close();
  });

  it('registers, keeps the form when refused, and is told to check the mail', async () => {
    await page.goto(`${stack.baseUrl}/`);
    // Not logged in: the console offers the login page, with a way to register.
    await heading(page, 'Log in');
    await page.getByRole('link', { name: 'Register' }).first().click();
    await heading(page, 'Register');
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Display name').fill('Console Owner');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Register' }).click();
    // The API's problem details, next to the field, and nothing typed is lost.
    await page.getByRole('alert').getByText('The request is not valid').waitFor({ timeout: UI_WAIT });
    expect(await page.getByLabel('E-mail').inputValue()).toBe(email);
    expect(await page.getByLabel('Display name').inputValue()).toBe('Console Owner');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Password').fill(password);
    await screenshot(page, 'register');
    await page.getByRole('button', { name: 'Register' }).click();
    await heading(page, 'Check your mail');
    await page.getByText(email).waitFor({ timeout: UI_WAIT });
  });

  it('confirms by following the link in the mail, then logs in', async () => {
    const mail = await stack.mailbox.mailTo(email);
    const link = /^(https?:\/\/\S+\/confirm\?token=\S+)$/m.exec(mail.text)?.[1];
    expect(link, mail.text).toBeDefined();
    expect(link!.startsWith(`${stack.baseUrl}/confirm?token=`)).toBe(true);

    await page.goto(link!);
    await heading(page, 'Confirm your e-mail');
    await page.getByRole('button', { name: 'Confirm my e-mail' }).click();
    await page.getByText('is confirmed').waitFor({ timeout: UI_WAIT });
    await screenshot(page, 'confirm');

    await page.getByRole('main').getByRole('link', { name: 'Log in' }).click();
    await heading(page, 'Log in');
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await screenshot(page, 'login');
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading(page, 'Conferences');
    await page.getByText('No conferences yet').waitFor({ timeout: UI_WAIT });
  });

  it('creates a conference', async () => {
    await page.getByLabel('Name').fill('Console sync');
    await page.getByLabel('Subject').fill('Planning from the browser');
    await page.getByRole('button', { name: 'Create conference' }).click();
    await heading(page, 'Console sync');
    conferenceId = page.url().split('/conferences/')[1]!;
    bot = `${conferenceId}@${testEnv.xmpp().componentDomain}`;
    expect(await page.getByTestId('conference-state').textContent()).toBe('draft');
  });

  it('invites two XMPP users; the bad address is rejected with its reason and left in the box to fix', async () => {
    await page.getByLabel('Addresses').fill([users.alice.jid, 'carol.example.org', users.bob.jid].join('\n'));
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    const result = page.locator('.invite-result');
    await result.getByText(`Invited ${users.alice.jid}, ${users.bob.jid}.`).waitFor({ timeout: UI_WAIT });
    await result
      .locator('.rejected li', { hasText: 'carol.example.org' })
      .getByText('an XMPP address must look like user@domain')
      .waitFor({ timeout: UI_WAIT });
    expect(await page.getByLabel('Addresses').inputValue()).toBe('carol.example.org');
    for (const who of ['alice', 'bob'] as const) {
      await page
        .locator(`tr[data-address="${users[who].jid}"] [data-testid=participant-state]`, {
          hasText: 'invited',
        })
        .waitFor({ timeout: UI_WAIT });
    }
    await screenshot(page, 'conference-invite');
  });

  it('starts it: the users get the bot’s invitation, accept, /join and talk; the live feed shows their messages', async () => {
    await page.getByRole('button', { name: 'Start the conference' }).click();
    await page.getByTestId('conference-state').getByText('active').waitFor({ timeout: UI_WAIT });
    await page.getByTestId('feed-status').getByText('Live').waitFor({ timeout: UI_WAIT });

    for (const who of ['alice', 'bob'] as const) {
      await clients[who].waitForMessage(bot, /You are invited to the conference "Console sync"/, UI_WAIT);
      await clients[who].sendMessage(bot, '/join');
      await clients[who].waitForMessage(bot, /^You joined "Console sync"/, UI_WAIT);
    }
    await clients.alice.sendMessage(bot, 'hello from alice, the console is watching');
    await clients.bob.waitForMessage(bot, /hello from alice/, UI_WAIT);
    await clients.bob.sendMessage(bot, 'bob here, all good');

    const feed = page.getByTestId('live-feed');
    await feed
      .locator('li[data-type="message-accepted"]', { hasText: 'hello from alice, the console is watching' })
      .waitFor({ timeout: UI_WAIT });
    await feed
      .locator('li[data-type="message-accepted"]', { hasText: 'bob here, all good' })
      .waitFor({ timeout: UI_WAIT });
    await feed
      .locator('li[data-type="participant-joined"]', { hasText: users.bob.username })
      .waitFor({ timeout: UI_WAIT });
    // The participant list follows the feed: both joined, alice with one message.
    const alice = page.locator(`tr[data-address="${users.alice.jid}"]`);
    await alice
      .locator('[data-testid=participant-state]', { hasText: 'joined' })
      .waitFor({ timeout: UI_WAIT });
    await waitFor('alice’s message count to show 1', async () =>
      (await alice.locator('td').nth(4).textContent()) === '1' ? true : undefined,
    );
    // Every fact once, in seq order.
    const seqs = await feed
      .locator('li[data-seq]')
      .evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-seq'))));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    await screenshot(page, 'conference');

    // Readable at phone width: nothing wider than the screen but the tables' own scroll boxes.
    await page.setViewportSize({ width: 390, height: 844 });
    // No sideways scrolling of the page (tables scroll inside their own box); on failure, name what sticks out.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    const sticking = await page.evaluate<string[]>(`[...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 10)
      .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' ' + Math.round(el.getBoundingClientRect().right))`);
    expect(overflow, `the page is wider than a phone screen: ${sticking.join(', ')}`).toBeLessThanOrEqual(0);
    await screenshot(page, 'conference-phone');
    await page.setViewportSize({ width: 1100, height: 900 });
  }, 120_000);

  it('finds a message in the archive and downloads the export', async () => {
    await page.getByRole('link', { name: 'Read, search and export the archive' }).click();
    await heading(page, 'Archive of Console sync');
    await page.getByLabel('Search words').fill('watching');
    const results = page.getByTestId('archive-results');
    // The archive stores what the feed shows a moment later: search again until it is there.
    await waitFor(
      'the archive search to find alice’s message',
      async () => {
        await page.getByRole('button', { name: 'Search' }).click();
        await page
          .getByRole('heading', { name: 'Messages matching “watching”' })
          .waitFor({ timeout: UI_WAIT });
        return (await results.count()) > 0 ? true : undefined;
      },
      UI_WAIT,
      250,
    );
    await results.getByText('hello from alice, the console is watching').waitFor({ timeout: UI_WAIT });
    expect(await results.locator('li').count()).toBe(1);
    await screenshot(page, 'archive');

    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: UI_WAIT }),
      page.getByRole('button', { name: 'Export the archive' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${conferenceId}-archive.ndjson`);
    const lines = readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.filter((e) => e.type === 'message-accepted').map((e) => e.body)).toEqual([
      'hello from alice, the console is watching',
      'bob here, all good',
    ]);
  });

  it('shows who invited whom, edits the settings, removes and cleans a participant, and closes the conference', async () => {
    await page.getByRole('link', { name: 'Back to the conference' }).click();
    await heading(page, 'Console sync');
    // A participant invites someone through the bot: the console shows the tree.
    const carol = await createXmppUser('carol');
    await clients.alice.sendMessage(bot, `/invite xmpp ${carol.jid}`);
    await clients.alice.waitForMessage(bot, /^Invited /, UI_WAIT);
    const carolRow = page.locator(`tr[data-address="${carol.jid}"]`);
    await carolRow
      .getByRole('cell', { name: users.alice.username, exact: true })
      .waitFor({ timeout: UI_WAIT });
    await page
      .locator('.tree > ul > li', { hasText: users.alice.username })
      .locator('ul > li', { hasText: carol.username })
      .waitFor({ timeout: UI_WAIT });

    await page.getByLabel('Subject').fill('Planning, edited in the browser');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor({ timeout: UI_WAIT });
    await page
      .getByText('Planning, edited in the browser', { exact: true })
      .first()
      .waitFor({ timeout: UI_WAIT });

    await page.getByRole('button', { name: `Remove ${users.bob.jid}` }).click();
    const bobRow = page.locator(`tr[data-address="${users.bob.jid}"]`);
    await bobRow
      .locator('[data-testid=participant-state]', { hasText: 'removed' })
      .waitFor({ timeout: UI_WAIT });
    await screenshot(page, 'conference-manage');
    await page.getByRole('button', { name: /^Clean: drop the 1 / }).click();
    await page.getByText('One person was dropped from the list.').waitFor({ timeout: UI_WAIT });
    await bobRow.waitFor({ state: 'detached', timeout: UI_WAIT });

    await page.getByRole('button', { name: 'Close the conference' }).click();
    await page.getByTestId('conference-state').getByText('terminated').waitFor({ timeout: UI_WAIT });
    await page
      .getByTestId('live-feed')
      .locator('li[data-type="conference-terminated"]', { hasText: 'The conference was closed' })
      .waitFor({ timeout: UI_WAIT });
    await clients.alice.waitForMessage(
      bot,
      'The conference "Console sync" was closed by its owner. Goodbye!',
      UI_WAIT,
    );
  }, 60_000);

  it('shows the other pages: IM accounts, contacts (import is coming), my account; then logs out', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'IM accounts' }).click();
    await heading(page, 'IM accounts');
    await page.getByLabel('Address').fill(users.alice.jid);
    await page.getByLabel('Password').fill(users.alice.password);
    await page.getByRole('button', { name: 'Add IM account' }).click();
    await page.getByRole('cell', { name: users.alice.jid, exact: true }).waitFor({ timeout: UI_WAIT });
    await screenshot(page, 'im-accounts');

    await nav.getByRole('link', { name: 'Contacts' }).click();
    await heading(page, 'Contacts');
    await page.getByText('Contact import is coming').waitFor({ timeout: UI_WAIT });
    await screenshot(page, 'contacts');

    await nav.getByRole('link', { name: 'My account' }).click();
    await heading(page, 'My account');
    expect(await page.getByLabel('Display name').inputValue()).toBe('Console Owner');
    await page.getByLabel('Display name').fill('Console Owner K.');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor({ timeout: UI_WAIT });
    await screenshot(page, 'account');

    await nav.getByRole('link', { name: 'Conferences' }).click();
    await heading(page, 'Conferences');
    await page.getByRole('table').getByRole('link', { name: 'Console sync' }).waitFor({ timeout: UI_WAIT });
    await screenshot(page, 'conferences');

    await nav.getByRole('button', { name: 'Log out' }).click();
    await heading(page, 'Log in');
    await page.goto(`${stack.baseUrl}/conferences`);
    await heading(page, 'Log in');
  });
});

describe('the console’s live feed when the browser’s connection is cut', () => {
  it('shows that it is reconnecting, then resumes without gaps or repeats', async () => {
    const proxy = await CuttableProxy.start(new URL(stack.baseUrl));
    const page = await browser.context.newPage();
    try {
      const owner = await createOwner(stack, 'console-cut');
      const api = (method: string, url: string, body?: unknown) =>
        stack.request(method, `/api/v1${url}`, { token: owner.token, ...(body ? { body } : {}) });
      const created = await api('POST', '/conferences', { name: 'Cut wire' });
      const id: string = created.body.id;
      let invited = 0;
      const invite = async (count: number) => {
        const participants = Array.from({ length: count }, () => ({
          network: 'xmpp',
          address: `guest${++invited}@example.org`,
        }));
        expect((await api('POST', `/conferences/${id}/participants`, { participants })).status).toBe(201);
      };
      await invite(3);

      await page.goto(`${proxy.url}/login`);
      await page.getByLabel('E-mail').fill(owner.email);
      await page.getByLabel('Password').fill(owner.password);
      // By keyboard: Enter in the form submits it.
      await page.getByLabel('Password').press('Enter');
      await heading(page, 'Conferences');
      await page.getByRole('link', { name: 'Cut wire' }).focus();
      await page.keyboard.press('Enter');
      await heading(page, 'Cut wire');
      const feed = page.getByTestId('live-feed');
      const shown = () =>
        feed
          .locator('li[data-seq]')
          .evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-seq'))));
      await feed.locator('li[data-seq="3"]').waitFor({ timeout: UI_WAIT });

      proxy.cut();
      await page.getByTestId('feed-status').getByText('reconnecting').waitFor({ timeout: UI_WAIT });
      // What happens while the owner's connection is down.
      await invite(4);
      expect(await shown()).toEqual([1, 2, 3]);

      proxy.restore();
      await page.getByTestId('feed-status').getByText('Live').waitFor({ timeout: UI_WAIT });
      await feed.locator('li[data-seq="7"]').waitFor({ timeout: UI_WAIT });
      // And the feed goes on after the reconnect.
      await invite(1);
      await feed.locator('li[data-seq="8"]').waitFor({ timeout: UI_WAIT });
      expect(await shown()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      await page.close();
      await proxy.close();
    }
  }, 120_000);
});
