/**
 * gateway-irc in pooled mode, end to end: one bot nick serves two conferences on the real ngircd;
 * real IRC users (irc-framework) reach the conference of their latest invitation, their only one,
 * or the one they chose with /conf. conference-core and gateway-irc run in-process on the real
 * NATS and PostgreSQL; the owner's operations go through the conferences RPCs.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RpcClient } from '@parley/bus';
import { conferencesRpc, type ConferenceView } from '@parley/contracts';
import { IrcTestClient, serviceTestEnv, startTestService } from '@parley/testing';
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';
import { AppModule as IrcGatewayModule } from '../../services/gateway-irc/src/app.module.js';
import { loadServiceConfig as loadIrcConfig } from '../../services/gateway-irc/src/config.js';

describe('gateway-irc in pooled mode: one bot nick for many conferences', () => {
  const ownerId = `owner-${randomBytes(4).toString('hex')}`;
  const pool = `pool${randomBytes(3).toString('hex')}`;
  const apps: NestFastifyApplication[] = [];
  let rpc: RpcClient;
  let carol: IrcTestClient;
  let dave: IrcTestClient;
  let one: ConferenceView;
  let two: ConferenceView;

  const hears = (client: IrcTestClient, text: string | RegExp) => client.waitForMessage(pool, text, 15_000);
  async function startConference(name: string, nicks: string[]): Promise<ConferenceView> {
    const conference = await rpc.call(conferencesRpc.create, { ownerId, name });
    const added = await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: conference.id,
      participants: nicks.map((address) => ({ network: 'irc' as const, address })),
    });
    expect(added.errors).toEqual([]);
    return rpc.call(conferencesRpc.start, { ownerId, conferenceId: conference.id });
  }

  beforeAll(async () => {
    const coreConfig = loadCoreConfig(serviceTestEnv('conference-core'));
    apps.push(await startTestService('conference-core', CoreModule.forRoot(coreConfig)));
    rpc = apps[0]!.get(RpcClient);
    const ircConfig = loadIrcConfig(
      serviceTestEnv('gateway-irc', {
        PARLEY_IRC_MODE: 'pooled',
        PARLEY_IRC_POOL_NICK: pool,
        PARLEY_GATEWAY_RATE_RECIPIENT: '100',
      }),
    );
    apps.push(await startTestService('gateway-irc', IrcGatewayModule.forRoot(ircConfig)));
    carol = await IrcTestClient.connect('carol');
    dave = await IrcTestClient.connect('dave');
  });

  afterAll(async () => {
    await Promise.all([carol?.quit(), dave?.quit()]);
    for (const app of apps.reverse()) await app.close();
  });

  it('invites to two conferences from the same bot, each line tagged with its conference', async () => {
    one = await startConference('Pool one', [carol.nick, dave.nick]);
    await hears(
      carol,
      `[${one.id}] You are invited to the conference "Pool one". Reply /join to join, /help for the commands.`,
    );
    await hears(dave, new RegExp(`^\\[${one.id}\\] You are invited to the conference "Pool one"`));
    two = await startConference('Pool two', [carol.nick]);
    await hears(carol, new RegExp(`^\\[${two.id}\\] You are invited to the conference "Pool two"`));
    const whois = await new Promise<Record<string, unknown>>((resolve) => carol.irc.whois(pool, resolve));
    expect(whois.real_name).toBe('Parley conferences (parley)');
  });

  it('routes to the only conference, and to the latest invitation', async () => {
    dave.say(pool, '/join');
    await hears(dave, new RegExp(`^\\[${one.id}\\] You joined "Pool one"`));
    carol.say(pool, '/join');
    await hears(carol, new RegExp(`^\\[${two.id}\\] You joined "Pool two"`));
  });

  it('lists the participant\u2019s conferences on /conf and follows /conf <id>', async () => {
    carol.say(pool, '/conf');
    const list = await hears(carol, /^Your conferences: /);
    expect(list).toContain(`${one.id} ("Pool one")`);
    expect(list).toContain(`${two.id} ("Pool two")`);
    carol.say(pool, `/conf ${one.id}`);
    await hears(carol, `Now talking to "Pool one" (${one.id}).`);
    carol.say(pool, '/join');
    await hears(carol, new RegExp(`^\\[${one.id}\\] You joined "Pool one" \\(1 other here\\)`));
    await hears(dave, `[${one.id}] ${carol.nick} (irc) joined.`);
    carol.say(pool, 'hello through the pool');
    await hears(dave, `[${one.id}] [${carol.nick} (irc)] hello through the pool`);
    carol.say(pool, '/conf no-such-conference');
    await hears(carol, /^You are in no conference "no-such-conference"\. Your conferences: /);
  });
});
