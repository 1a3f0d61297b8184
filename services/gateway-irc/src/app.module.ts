/** Wires the gateway-irc service: IRC gateway: one bot connection per active conference (or a pooled bot). */
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
          service: 'gateway-irc',
          natsUrl: config.PARLEY_NATS_URL,
          replicas: config.PARLEY_STREAM_REPLICAS,
        }),
        HealthModule.forRoot('gateway-irc', [BusHealthIndicator]),
      ],
    };
  }
}
