/**
 * Chaos: two gateway-irc processes share the conferences out (each holds half the IM_OUTBOUND
 * partitions through a lease in the KV bucket `gateway_leases`, ADR 0006); real IRC users on the
 * shared ngircd talk in four conferences, two on each process, while one process is killed with
 * SIGKILL and not restarted. The survivor must take its partitions over within seconds and bring
 * their bots back online, and every message conference-core accepted must reach every other
 * participant once, in the accepted order. Then the last process is stopped and a fresh one started:
 * it brings every active conference's bot online by itself, before any message is sent.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Kvm, type KV } from '@nats-io/kv';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  INBOUND_PARTITIONS,
  conferenceEventV1Schema,
  conferencesRpc,
  inboundPartition,
  kvBuckets,
  streams,
  subjects,
  type ConferenceEventV1,
} from '@parley/contracts';
import {
  IrcTestClient,
  serviceTestEnv,
  spawnService,
  startTestService,
  testEnv,
  waitFor,
  type ServiceProcess,
} from '@parley/testing';
import { freePort } from '../deploy/helpers.js';
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';
import { botNick } from '../../services/gateway-irc/src/irc/bot-nick.js';
import { drawConferencesSplit, follow, type Followed } from './relay-harness.js';

const CONFERENCES = 4;
const PER_SENDER = 40;
const NICK_LENGTH = 30; // deploy/ngircd/ngircd.test.conf.in: MaxNickLength
const SENDERS = ['alice', 'bob'] as const;

interface Conference {
  id: string;
  bot: string;
  users: Record<'alice' | 'bob' | 'carol', IrcTestClient>;
  events: Followed<ConferenceEventV1>;
}

describe('two gateway-irc processes, one killed with SIGKILL mid-traffic', () => {
  let core: NestFastifyApplication;
  let rpc: RpcClient;
  let bus: JetStreamBus;
  let leases: KV | undefined;
  const gateways: ServiceProcess[] = [];
  const clients: IrcTestClient[] = [];
  const conferences: Conference[] = [];
  const ownerId = `owner-${randomBytes(4).toString('hex')}`;

  const startGateway = async () => {
    const port = await freePort();
    const gateway = spawnService('gateway-irc', {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_IRC_NICK_LENGTH: String(NICK_LENGTH),
      // The test ngircd has no flood penalty; keep the test quick.
      PARLEY_GATEWAY_RATE_RECIPIENT: '100',
      PARLEY_GATEWAY_RATE_NETWORK: '1000',
    });
    gateways.push(gateway);
    await waitFor(
      `gateway-irc (pid ${gateway.child.pid}) to answer`,
      async () => {
        if (gateway.child.exitCode !== null) throw new Error(`gateway-irc exited: ${gateway.stderr()}`);
        return (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => null))?.ok ?? false;
      },
      30_000,
    );
    return gateway;
  };

  /** Which gateway process (pid) holds which outbound partition, from the leases bucket. */
  async function holders(): Promise<Map<number, number>> {
    leases ??= await new Kvm(bus.nc).open(kvBuckets.gatewayLeases());
    const found = new Map<number, number>();
    for (let partition = 0; partition < INBOUND_PARTITIONS; partition++) {
      const entry = await leases.get(`irc.p.${partition}`);
      if (!entry || entry.operation !== 'PUT') continue;
      // The holder is `<host>_<pid>_<random>`.
      const parts = entry.string().split('_');
      found.set(partition, Number(parts[parts.length - 2]));
    }
    return found;
  }

  /** The nicks among `nicks` that are on the IRC server now (ISON, asked by a test user). */
  function online(asker: IrcTestClient, nicks: string[]): Promise<Set<string>> {
    return new Promise((resolve) => {
      const onRaw = (event: { line: string; from_server: boolean }) => {
        const match = / 303 \S+ :?(.*)$/.exec(event.line.replace(/\r?\n?$/, ''));
        if (!event.from_server || !match) return;
        asker.irc.removeListener('raw', onRaw);
        resolve(
          new Set(
            match[1]!
              .trim()
              .split(/\s+/)
              .filter(Boolean)
              .map((n) => n.toLowerCase()),
          ),
        );
      };
      asker.irc.on('raw', onRaw);
      asker.irc.raw(`ISON ${nicks.join(' ')}`);
      // No answer (the line lost with a reconnect): ask again on the next try.
      setTimeout(() => {
        asker.irc.removeListener('raw', onRaw);
        resolve(new Set());
      }, 3_000).unref();
    });
  }

  const relayed = (conference: Conference, who: keyof Conference['users']) =>
    conference.users[who]
      .messagesFrom(conference.bot)
      .map((m) => m.slice(m.indexOf('] ') + 2))
      .filter((m) => /^shard \d+ \w+ \d+$/.test(m));

  const accepted = (conference: Conference) =>
    conference.events.seen
      .filter(
        (e): e is Extract<ConferenceEventV1, { type: 'message-accepted' }> =>
          e.type === 'message-accepted' && /^shard \d+ \w+ \d+$/.test(e.body),
      )
      .sort((a, b) => a.seq - b.seq);

  beforeAll(async () => {
    core = await startTestService(
      'conference-core',
      CoreModule.forRoot(loadCoreConfig(serviceTestEnv('conference-core'))),
    );
    rpc = core.get(RpcClient);
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'irc-shards-test' });
  });

  afterAll(async () => {
    for (const { child, exited } of gateways) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited();
    }
    await Promise.all(conferences.map((c) => c.events.stop()));
    await Promise.all(clients.map((c) => c.quit()));
    await core?.close();
    await bus?.close();
  });

  it('shares the conferences out, takes a dead process’s over, and loses, doubles and reorders nothing', async () => {
    const first = await startGateway();
    await waitFor('the first process to hold every partition', async () =>
      (await holders()).size === INBOUND_PARTITIONS ? true : null,
    );
    const second = await startGateway();
    const split = await waitFor('the two processes to hold half the partitions each', async () => {
      const held = await holders();
      const counts = new Map<number, number>();
      for (const pid of held.values()) counts.set(pid, (counts.get(pid) ?? 0) + 1);
      return held.size === INBOUND_PARTITIONS && counts.get(first.child.pid!) === INBOUND_PARTITIONS / 2
        ? held
        : null;
    });

    const ids = await drawConferencesSplit(rpc, ownerId, CONFERENCES, split, 'Shards');

    for (const [index, id] of ids.entries()) {
      const users = {
        alice: await IrcTestClient.connect(`a${index}`),
        bob: await IrcTestClient.connect(`b${index}`),
        carol: await IrcTestClient.connect(`c${index}`),
      };
      clients.push(...Object.values(users));
      await rpc.call(conferencesRpc.addParticipants, {
        ownerId,
        conferenceId: id,
        participants: Object.values(users).map((u) => ({ network: 'irc' as const, address: u.nick })),
      });
      await rpc.call(conferencesRpc.start, { ownerId, conferenceId: id });
      const bot = botNick(id, NICK_LENGTH);
      for (const user of Object.values(users)) {
        await user.waitForMessage(bot, /^You are invited/, 20_000);
        user.say(bot, '/join');
        await user.waitForMessage(bot, /^You joined/, 20_000);
      }
      const events = await follow(bus, streams.confEvents().name, subjects.confEvents(id), (v) =>
        conferenceEventV1Schema.parse(v),
      );
      conferences.push({ id, bot, users, events });
    }
    const victim = first;
    const victimsConferences = conferences.filter(
      (c) => split.get(inboundPartition(c.id)) === victim.child.pid,
    );

    // Alice and bob of every conference talk in turns; the first process dies a fifth of the way in,
    // and the traffic goes on for seconds after the survivor took its conferences over.
    let takeOver: Promise<number> | undefined;
    for (let i = 1; i <= PER_SENDER; i++) {
      for (const [index, conference] of conferences.entries()) {
        for (const who of SENDERS) conference.users[who].say(conference.bot, `shard ${index} ${who} ${i}`);
      }
      if (i === PER_SENDER / 5) {
        await conferences[0]!.users.carol.waitForMessage(conferences[0]!.bot, /\] shard 0 bob \d+$/, 10_000);
        victim.child.kill('SIGKILL');
        await victim.exited();
        const killedAt = Date.now();
        takeOver = waitFor(
          'the survivor to hold every partition',
          async () => {
            const held = await holders();
            return held.size === INBOUND_PARTITIONS &&
              [...held.values()].every((pid) => pid === second.child.pid)
              ? Date.now() - killedAt
              : null;
          },
          30_000,
          100,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const takeOverMs = await takeOver!;
    await waitFor(
      'the dead process’s bots to be online again',
      async () => {
        const on = await online(
          conferences[0]!.users.carol,
          victimsConferences.map((c) => c.bot),
        );
        return victimsConferences.every((c) => on.has(c.bot.toLowerCase())) ? true : null;
      },
      30_000,
      200,
    );
    console.log(`the survivor held every partition ${takeOverMs} ms after the kill`);

    // A last message from alice of every conference proves the lanes moved on.
    for (const [index, conference] of conferences.entries()) {
      conference.users.alice.say(conference.bot, `shard ${index} alice ${PER_SENDER + 1}`);
    }
    const duplicates: string[] = [];
    for (const [index, conference] of conferences.entries()) {
      const last = `shard ${index} alice ${PER_SENDER + 1}`;
      await waitFor(`conference ${index} to have accepted alice's last message`, () =>
        accepted(conference).some((e) => e.body === last) ? true : null,
      );
      const all = accepted(conference);
      // Messages sent to a dead process's bots before the survivor brought them back were refused to
      // their senders by the server (401), never accepted.
      expect(all.length, `messages accepted in conference ${index}`).toBeGreaterThan(PER_SENDER / 2);
      for (const who of ['alice', 'bob', 'carol'] as const) {
        const nick = conference.users[who].nick.toLowerCase();
        const expected = all.filter((e) => e.sender.address !== nick).map((e) => e.body);
        // IRC acknowledges nothing: lines a killed process wrote in the millisecond or two before
        // the kill, before it recorded that the server took them, are sent again by the survivor
        // (docs/reliability.md, "Known windows"): an immediate repeat, counted apart.
        const once = () => relayed(conference, who).filter((body, i, heard) => body !== heard[i - 1]);
        await waitFor(
          `${who} of conference ${index} to have heard ${expected.length} messages`,
          () => (once().length >= expected.length ? true : null),
          30_000,
        );
        expect(once(), `what ${who} of conference ${index} heard`).toEqual(expected);
        const repeats = relayed(conference, who).filter((body, i, heard) => body === heard[i - 1]);
        expect(repeats.length, `repeats heard by ${who} of conference ${index}`).toBeLessThanOrEqual(
          victimsConferences.includes(conference) ? 1 : 0,
        );
        duplicates.push(...repeats.map((body) => `${who}: ${body}`));
      }
    }
    console.log(
      `repeats (the IRC window of a gateway killed mid-delivery): ${duplicates.join(', ') || 'none'}`,
    );

    // Bots online from start-up: the survivor stops (SIGTERM: its bots quit), a fresh process starts
    // and brings every active conference's bot online without a message to make it.
    second.child.kill('SIGTERM');
    await second.exited();
    const bots = conferences.map((c) => c.bot);
    await waitFor('the bots to be gone with the stopped process', async () =>
      (await online(conferences[0]!.users.carol, bots)).size === 0 ? true : null,
    );
    await startGateway();
    await waitFor(
      'every conference’s bot online from the fresh process’s start',
      async () => {
        const on = await online(conferences[0]!.users.carol, bots);
        return bots.every((bot) => on.has(bot.toLowerCase())) ? true : null;
      },
      30_000,
      200,
    );
  }, 240_000);
});
