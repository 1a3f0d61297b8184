/** Wires the gateway-xmpp service: an XMPP server component (XEP-0114) serving every conference bot as <conference-id>@<component domain>. */
import { Module, type DynamicModule } from '@nestjs/common';
import { BusHealthIndicator, BusModule } from '@parley/bus';
import { HealthModule } from '@parley/runtime';
import { GatewayModule } from './gateway/gateway.module.js';
import { XmppComponentHealthIndicator } from './gateway/xmpp-health.indicator.js';
import type { Config } from './config.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BusModule.forRoot({
          service: 'gateway-xmpp',
          natsUrl: config.PARLEY_NATS_URL,
          replicas: config.PARLEY_STREAM_REPLICAS,
        }),
        GatewayModule.forRoot({
          host: config.PARLEY_XMPP_COMPONENT_HOST,
          port: config.PARLEY_XMPP_COMPONENT_PORT,
          domain: config.PARLEY_XMPP_COMPONENT_DOMAIN.toLowerCase(),
          secret: config.PARLEY_XMPP_COMPONENT_SECRET,
          serviceName: 'Parley conferences',
        }),
        HealthModule.forRoot('gateway-xmpp', [BusHealthIndicator, XmppComponentHealthIndicator]),
      ],
    };
  }
}
