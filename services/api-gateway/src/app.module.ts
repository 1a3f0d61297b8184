/** Wires the api-gateway: the stateless HTTP edge for owners (REST under /api/v1), turning requests into NATS requests. */
import { Module, type DynamicModule } from '@nestjs/common';
import { platformModules } from '@parley/runtime';
import { apiModules } from './api-modules.js';
import { AuthModule } from './auth/auth.module.js';
import { markControllersPublic } from './auth/public.decorator.js';
import type { Config } from './config.js';
import { HttpModule } from './http/http.module.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    const platform = platformModules('api-gateway', config);
    // Probes and the Prometheus scrape carry no owner token.
    platform.forEach(markControllersPublic);
    return {
      module: AppModule,
      imports: [
        ...platform,
        HttpModule.forRoot(config),
        AuthModule.forRoot(config.PARLEY_JWT_SECRET),
        ...apiModules,
      ],
    };
  }
}
