/** Wires the gateway-xmpp service: an XMPP server component (XEP-0114) serving every conference bot as <conference-id>@<component domain>. */
import { Module, type DynamicModule } from '@nestjs/common';
import { GatewayKitModule, deliveryOptionsFrom, rateLimitsFrom } from '@parley/gateway-kit';
import { platformModules } from '@parley/runtime';
import { XmppComponentHealthIndicator } from './gateway/xmpp-health.indicator.js';
import { XmppAdapter } from './xmpp/xmpp-adapter.js';
import type { Config } from './config.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    const xmpp = {
      host: config.PARLEY_XMPP_COMPONENT_HOST,
      port: config.PARLEY_XMPP_COMPONENT_PORT,
      domain: config.PARLEY_XMPP_COMPONENT_DOMAIN.toLowerCase(),
      secret: config.PARLEY_XMPP_COMPONENT_SECRET,
      serviceName: 'Parley conferences',
      c2s: config.PARLEY_XMPP_C2S_HOST
        ? { host: config.PARLEY_XMPP_C2S_HOST, port: config.PARLEY_XMPP_C2S_PORT }
        : undefined,
    };
    return {
      module: AppModule,
      imports: [
        ...platformModules('gateway-xmpp', config, { checks: [XmppComponentHealthIndicator] }),
        GatewayKitModule.forRoot(
          {
            network: 'xmpp',
            createAdapter: (port) => new XmppAdapter(xmpp, port),
            rateLimits: rateLimitsFrom(config),
            ...deliveryOptionsFrom(config),
            // One connection per component domain: a second process is a standby (docs/reliability.md).
            consumeOnlyWhileOnline: true,
            connectBackoff: { initialMs: 500, maxMs: 2_000 },
          },
          XmppComponentHealthIndicator,
        ),
      ],
    };
  }
}
