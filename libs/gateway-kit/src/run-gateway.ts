/** A gateway's whole main.ts: load its config, build its module, run it as a Parley service. */
import type { DynamicModule } from '@nestjs/common';
import type { ServiceName } from '@parley/contracts';
import { runService } from '@parley/runtime';

interface BaseConfig {
  PARLEY_NATS_URL: string;
  PARLEY_HTTP_PORT: number;
  PARLEY_HTTP_HOST: string;
}

export function runGateway<C extends BaseConfig>(
  service: ServiceName,
  loadConfig: () => C,
  module: (config: C) => DynamicModule,
): Promise<void> {
  // Config is loaded inside runService's build step, so an invalid one is reported cleanly.
  return runService(service, () => {
    const config = loadConfig();
    return {
      service,
      module: module(config),
      natsUrl: config.PARLEY_NATS_URL,
      httpPort: config.PARLEY_HTTP_PORT,
      httpHost: config.PARLEY_HTTP_HOST,
    };
  });
}
