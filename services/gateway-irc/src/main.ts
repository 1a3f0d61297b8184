/** gateway-irc: IRC gateway: one bot connection per active conference (or a pooled bot). */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('gateway-irc', () => {
  const config = loadServiceConfig();
  return {
    service: 'gateway-irc',
    module: AppModule.forRoot(config),
    natsUrl: config.PARLEY_NATS_URL,
    httpPort: config.PARLEY_HTTP_PORT,
    httpHost: config.PARLEY_HTTP_HOST,
  };
});
