/** Wires the gateway-irc service: one IRC bot connection per active conference (or one pooled bot), on the gateway kit. */
import { Module, type DynamicModule } from '@nestjs/common';
import {
  GatewayKitModule,
  deliveryOptionsFrom,
  rateLimitsFrom,
  type GatewayOptions,
} from '@parley/gateway-kit';
import { platformModules } from '@parley/runtime';
import { IrcBotsHealthIndicator } from './irc/irc-health.indicator.js';
import { IrcAdapter, type IrcAdapterOptions } from './irc/irc-adapter.js';
import type { Config } from './config.js';

export function ircAdapterOptions(config: Config): IrcAdapterOptions {
  return {
    host: config.PARLEY_IRC_HOST,
    port: config.PARLEY_IRC_PORT,
    tls: config.PARLEY_IRC_TLS,
    ...(config.PARLEY_IRC_PASSWORD ? { password: config.PARLEY_IRC_PASSWORD } : {}),
    ...(config.PARLEY_IRC_NICKSERV_PASSWORD ? { nickServPassword: config.PARLEY_IRC_NICKSERV_PASSWORD } : {}),
    nickLength: config.PARLEY_IRC_NICK_LENGTH,
    presencePollMs: config.PARLEY_IRC_PRESENCE_POLL_MS,
    reconnect: { initialMs: 500, maxMs: 30_000 },
    replyTimeoutMs: 15_000,
    rejoinGraceMs: config.PARLEY_IRC_REJOIN_GRACE_MS,
    identity: config.PARLEY_IRC_IDENTITY,
    connectWaitMs: 5_000,
    mode: config.PARLEY_IRC_MODE,
    poolNick: config.PARLEY_IRC_POOL_NICK,
  };
}

/** The kit's options: IRC servers come back in seconds, so retry soon, and for about half an hour. */
function gatewayOptions(config: Config): GatewayOptions {
  const irc = ircAdapterOptions(config);
  return {
    network: 'irc',
    createAdapter: (port) => new IrcAdapter(irc, port),
    rateLimits: rateLimitsFrom(config),
    backoffMs: [200, 1_000, 2_000, 5_000],
    maxDeliver: 400,
    // One bot per conference: the conferences are shared out between the gateway's processes. The
    // pooled bot is one nick, so pooled mode stays one process consuming the whole network.
    shareOutByConference: irc.mode === 'per-conference',
    ...deliveryOptionsFrom(config),
  };
}

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    const platform = platformModules('gateway-irc', config, { checks: [IrcBotsHealthIndicator] });
    return {
      module: AppModule,
      imports: [...platform, GatewayKitModule.forRoot(gatewayOptions(config), IrcBotsHealthIndicator)],
    };
  }
}
