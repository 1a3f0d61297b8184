/**
 * What every REST feature of the gateway shares: its configuration, the RPC caller, the
 * problem+json filter, and the attempt limiter. Global, so a feature module only adds controllers.
 */
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CONFIG, type Config } from '../config.js';
import { authLimiterProvider, RateLimitGuard } from '../rate-limit/rate-limit.js';
import { ProblemFilter } from './problem.filter.js';
import { RpcGateway } from './rpc-gateway.js';

@Global()
@Module({})
export class HttpModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: HttpModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ProblemFilter },
        RpcGateway,
        authLimiterProvider,
        RateLimitGuard,
      ],
      exports: [CONFIG, RpcGateway, authLimiterProvider, RateLimitGuard],
    };
  }
}
