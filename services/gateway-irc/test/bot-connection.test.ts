/**
 * One bot connection against real ngircd servers, at the two moments a connection ends:
 * - the IRC server goes down mid-traffic: a say() the server answered reached its recipient, and
 *   a say() that failed with the connection did not (it is sent again, so it must not have arrived:
 *   otherwise the recipient hears it twice);
 * - the bot quits (SIGTERM, or its conference moving to another gateway process) while a participant
 *   is writing to it: every message is either relayed or refused to its sender ("No such nick");
 *   and while it is saying something: a say in flight is answered and reached its recipient once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IrcTestClient, testEnv, waitFor } from '@parley/testing';
import { BotConnection, type IrcServerOptions } from '../src/irc/bot-connection.js';
import { freePort, startNgircd, stop, type Spawned } from '../../../test/deploy/helpers.js';

const serverOptions = (port: number): IrcServerOptions => ({
  host: '127.0.0.1',
  port,
  tls: false,
  nickLength: 30,
  presencePollMs: 60_000,
  reconnect: { initialMs: 60_000, maxMs: 60_000 },
  replyTimeoutMs: 5_000,
});

const heard: Array<{ from: string; text: string }> = [];
const listener = {
  privateMessage: (from: string, text: string) => heard.push({ from, text }),
  presence: () => undefined,
};
const cleanups: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** An ngircd of this test's own (so it can be stopped), without flood control. */
async function ownNgircd(): Promise<{ port: number; server: Spawned }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bot-connection-'));
  const port = await freePort();
  const server = await startNgircd(dir, port);
  cleanups.push(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });
  return { port, server };
}

describe('IRC bot connection', () => {
  it('when the IRC server goes down mid-traffic, a say that failed never reached its recipient', async () => {
    const { port, server } = await ownNgircd();
    const carol = await IrcTestClient.connect('carol', { port });
    const bot = new BotConnection(
      't1',
      () => `bot${carol.nick}`.slice(0, 16),
      'Test bot',
      serverOptions(port),
      listener,
    );
    cleanups.push(() => bot.stop());
    bot.start();
    await bot.ready(5_000);

    // One say at a time, as a delivery to one recipient is; the server is stopped (SIGTERM) while
    // they flow, so the connection ends with a say somewhere between its write and its answer.
    const outcomes = new Map<string, 'answered' | 'failed'>();
    /** The says reported as written (onWritten: the kit records the recipient as served there). */
    const written = new Set<string>();
    let sent = 0;
    const flowing = (async () => {
      for (;;) {
        const text = `m${++sent}`;
        try {
          await bot.say(carol.nick, text, () => written.add(text));
          outcomes.set(text, 'answered');
        } catch {
          outcomes.set(text, 'failed');
          if (!bot.isRegistered) return;
        }
      }
    })();
    await waitFor('some messages to flow', () => sent >= 50, 30_000, 5);
    await stop(server);
    await flowing;
    await bot.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));

    const got = new Set(carol.messagesFrom(bot.nick ?? `bot${carol.nick}`.slice(0, 16)));
    const answered = [...outcomes].filter(([, o]) => o === 'answered').map(([text]) => text);
    const failed = [...outcomes].filter(([, o]) => o === 'failed').map(([text]) => text);
    expect(answered.length, 'messages answered before the server went down').toBeGreaterThan(0);
    expect(
      answered.filter((text) => !got.has(text)),
      'answered, yet never received',
    ).toEqual([]);
    expect(
      failed.filter((text) => got.has(text)),
      'failed (so sent again), yet received',
    ).toEqual([]);
    expect(
      answered.filter((text) => !written.has(text)),
      'answered, yet never reported written',
    ).toEqual([]);
  });

  it('a bot that quits while a participant writes to it relays or refuses every message, never drops one', async () => {
    const { port } = testEnv.irc();
    const dave = await IrcTestClient.connect('dave');
    cleanups.push(() => dave.irc.quit('bye'));
    const refused: string[] = [];
    const botNick = `q${dave.nick}`.slice(0, 16);
    dave.irc.on('irc error', (event: { error: string; nick?: string }) => {
      if (event.error === 'no_such_nick' && event.nick?.toLowerCase() === botNick.toLowerCase()) {
        refused.push(event.nick);
      }
    });
    const bot = new BotConnection('t2', () => botNick, 'Test bot', serverOptions(port), listener);
    bot.start();
    await bot.ready(5_000);

    // dave writes a burst, then on and on; the bot quits once his first message is in, so most of
    // the burst is on its way to the bot (routed by the server before it read the QUIT).
    const sent: string[] = [];
    const write = (count: number) => {
      for (let i = 0; i < count; i++) {
        const text = `d${sent.length + 1}`;
        dave.say(botNick, text);
        sent.push(text);
      }
    };
    write(300);
    const writing = setInterval(() => write(5), 5);
    await waitFor('dave to be heard', () => heard.some((m) => m.from === dave.nick), 5_000, 2);
    await bot.stop('test over');
    await waitFor('refusals to come', () => refused.length >= 5, 5_000, 10);
    clearInterval(writing);
    await waitFor(
      'the last refusals',
      async () => {
        const before = refused.length;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return refused.length === before;
      },
      10_000,
      0,
    );

    const relayed = heard.filter((m) => m.from === dave.nick).map((m) => m.text);
    expect(new Set(relayed).size, 'nothing relayed twice').toBe(relayed.length);
    expect(relayed.length + refused.length, `${sent.length} sent, relayed or refused`).toBe(sent.length);
  });

  it('a bot that quits while saying something has each say in flight answered, not failed', async () => {
    const { port } = await ownNgircd();
    const erin = await IrcTestClient.connect('erin', { port });
    cleanups.push(() => erin.irc.quit('bye'));
    const botNick = `s${erin.nick}`.slice(0, 16);
    const bot = new BotConnection('t3', () => botNick, 'Test bot', serverOptions(port), listener);
    bot.start();
    await bot.ready(5_000);

    // Written, not yet answered, when the QUIT follows: the server reads them first. Failed, they
    // would be sent again by the next holder of the conference, and erin would hear them twice.
    const texts = Array.from({ length: 20 }, (_, i) => `in flight ${i + 1}`);
    const says = texts.map((text) => bot.say(erin.nick, text));
    await bot.stop('conference moved');
    expect(await Promise.allSettled(says)).toEqual(
      texts.map(() => ({ status: 'fulfilled', value: 'accepted' })),
    );
    await waitFor('erin to hear every say', () => erin.messagesFrom(botNick).length >= texts.length, 5_000);
    expect(erin.messagesFrom(botNick)).toEqual(texts);
  });

  it('a nick seen leaving may be held by someone else: what was written before is not sent to it', async () => {
    const { port } = await ownNgircd();
    const seen = new Map<string, string>();
    const watching = { ...listener, presence: (nick: string, show: string) => void seen.set(nick, show) };
    const bot = new BotConnection(
      't4',
      () => 'watcher',
      'Test bot',
      { ...serverOptions(port), presencePollMs: 200 },
      watching,
    );
    cleanups.push(() => bot.stop());
    bot.start();
    await bot.ready(5_000);
    const until = (nick: string, show: string) =>
      waitFor(`${nick} seen ${show}`, () => seen.get(nick.toLowerCase()) === show, 5_000, 20);

    // Never seen on before it came: not seen leaving (as after the bot reconnected).
    bot.watch('latecomer');
    await until('latecomer', 'offline');
    const beforeLatecomer = Date.now() - 1;
    const latecomer = await IrcTestClient.connect('late', { port, nick: 'latecomer' });
    cleanups.push(() => latecomer.irc.quit('bye'));
    await until('latecomer', 'online');
    expect(bot.holderChanged('latecomer', beforeLatecomer), 'first seen on').toBe(false);

    // Seen on, then leaving (whoever takes the nick next is anyone), then on again: maybe someone else.
    const frank = await IrcTestClient.connect('frank', { port, nick: 'frank' });
    bot.watch('frank');
    await until('frank', 'online');
    const writtenForFrank = Date.now() - 1;
    expect(bot.holderChanged('frank', writtenForFrank), 'on before it was written').toBe(false);
    await frank.quit();
    await until('frank', 'offline');
    expect(bot.holderChanged('frank', Date.now()), 'gone, not back yet').toBe(true);
    const taker = await IrcTestClient.connect('taker', { port, nick: 'frank' });
    cleanups.push(() => taker.irc.quit('bye'));
    await until('frank', 'online');
    expect(bot.holderChanged('FRANK', writtenForFrank), 'written before the nick came back').toBe(true);
    expect(bot.holderChanged('frank', Date.now()), 'written after it came back').toBe(false);
  });
});
