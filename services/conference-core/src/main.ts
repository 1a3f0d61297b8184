/** conference-core: Conferences, participants and the relay: consumes inbound IM events, emits deliveries and conference events. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('conference-core', () => {
  const config = loadServiceConfig();
  return {
    service: 'conference-core',
    module: AppModule.forRoot(config),
    natsUrl: config.PARLEY_NATS_URL,
    httpPort: config.PARLEY_HTTP_PORT,
    httpHost: config.PARLEY_HTTP_HOST,
  };
});
