/** archive: Every accepted message and notice of every conference, by (conference, seq). */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('archive', () => {
  const config = loadServiceConfig();
  return {
    service: 'archive',
    module: AppModule.forRoot(config),
    natsUrl: config.PARLEY_NATS_URL,
    httpPort: config.PARLEY_HTTP_PORT,
    httpHost: config.PARLEY_HTTP_HOST,
  };
});
