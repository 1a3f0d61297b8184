/** Wires the api-gateway service: Stateless HTTP edge for owners: REST under /api/v1, turns requests into NATS requests. */
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
          service: 'api-gateway',
          natsUrl: config.PARLEY_NATS_URL,
          replicas: config.PARLEY_STREAM_REPLICAS,
        }),
        HealthModule.forRoot('api-gateway', [BusHealthIndicator]),
      ],
    };
  }
}
