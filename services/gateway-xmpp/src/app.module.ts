/** Wires the gateway-xmpp service: XMPP server component (XEP-0114): every conference bot is <conference-id>@<component domain>. */
import { Module, type DynamicModule } from '@nestjs/common';
import { BusHealthIndicator, BusModule } from '@parley/bus';
import { HealthModule } from '@parley/runtime';
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
        HealthModule.forRoot('gateway-xmpp', [BusHealthIndicator]),
      ],
    };
  }
}
