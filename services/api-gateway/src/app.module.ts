/** Wires the api-gateway: the stateless HTTP edge for owners (REST under /api/v1), turning requests into NATS requests. */
import { Module, type DynamicModule } from '@nestjs/common';
import { BusHealthIndicator, BusModule } from '@parley/bus';
import { HealthModule } from '@parley/runtime';
import { apiModules } from './api-modules.js';
import { AuthModule } from './auth/auth.module.js';
import { markControllersPublic } from './auth/public.decorator.js';
import type { Config } from './config.js';
import { HttpModule } from './http/http.module.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    const health = HealthModule.forRoot('api-gateway', [BusHealthIndicator]);
    // Probes and the Prometheus scrape carry no owner token.
    markControllersPublic(health);
    return {
      module: AppModule,
      imports: [
        BusModule.forRoot({
          service: 'api-gateway',
          natsUrl: config.PARLEY_NATS_URL,
          replicas: config.PARLEY_STREAM_REPLICAS,
        }),
        health,
        HttpModule.forRoot(config),
        AuthModule.forRoot(config.PARLEY_JWT_SECRET),
        ...apiModules,
      ],
    };
  }
}
