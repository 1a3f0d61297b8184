/** Starts a Parley service inside a test: on loopback, a free port, this file's NATS. */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startService, type ServiceBootstrap } from '@parley/runtime';
import type { ServiceName } from '@parley/contracts';
import { testEnv } from './env.js';

export function startTestService(
  service: ServiceName,
  module: ServiceBootstrap['module'],
  configure?: ServiceBootstrap['configure'],
): Promise<NestFastifyApplication> {
  return startService({
    service,
    module,
    natsUrl: testEnv.natsUrl(),
    httpPort: 0,
    httpHost: '127.0.0.1',
    configure,
  });
}
